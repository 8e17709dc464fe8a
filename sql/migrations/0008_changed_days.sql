-- 0008: incremental allocation and retention. Columns agree with models/schemas.py.
--
-- changed_day: the days each load changed (Warehouse.load records them for every table the
-- allocation reads: finops/changes.py), kept until an allocation of that day succeeds (the
-- allocation's own transaction deletes them, so a failed run leaves them).
CREATE TABLE IF NOT EXISTS changed_day (
    day DATE,
    table_name VARCHAR,
    run_id VARCHAR,
    marked_at TIMESTAMP
);

-- allocated_day: each allocated day, the run that allocated it and the fingerprint of the
-- allocation-relevant configuration it used (a day allocated under another one is stale).
CREATE TABLE IF NOT EXISTS allocated_day (
    day DATE,
    run_id VARCHAR,
    config_fingerprint VARCHAR,
    allocated_at TIMESTAMP
);

-- retention: the first day a table still holds in full, once `finops retention apply` (or
-- `finops run`) removed older rows; days before it are never allocated again.
CREATE TABLE IF NOT EXISTS retention (
    table_name VARCHAR,
    kept_from DATE,
    applied_at TIMESTAMP
);

-- A warehouse from before this migration has no record of what is allocated and with which
-- configuration: every day that has data counts as changed, so the first
-- `finops allocate --changed` allocates all of it once.
INSERT INTO changed_day
SELECT DISTINCT day, 'migration', '0008_changed_days', now()
FROM (
    SELECT CAST(hour AS DATE) AS day FROM k8s_pod_hour
    UNION SELECT CAST(hour AS DATE) FROM k8s_node_hour
    UNION SELECT CAST(charge_period_start AS DATE) FROM cost_line
    UNION SELECT day FROM allocation
);
