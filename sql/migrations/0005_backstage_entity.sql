-- 0005: the Backstage catalog as loaded by `finops ingest backstage` (governance reads it:
-- catalog drift, the Backstage Cost Insights API's groups and entities). One row per entity,
-- replaced whole on every load. `owner` is spec.owner reduced to a team name.
CREATE TABLE IF NOT EXISTS backstage_entity (
    ref VARCHAR,
    kind VARCHAR,
    name VARCHAR,
    owner VARCHAR,
    k8s_namespace VARCHAR,
    k8s_id VARCHAR,
    member_of VARCHAR[],
    members VARCHAR[],
    x_source_file VARCHAR
);
