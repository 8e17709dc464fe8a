-- 0009: incremental serving rollups (finops/rollups.py).
--
-- pending_rollup_day: the days each load replaced in a table the rollups are computed from
-- (Warehouse.load records them, before its DELETE and after its INSERT, in the load's own
-- transaction); the next publish rebuilds those days of the rollups that read the table and
-- clears them in the rollups' transaction.
CREATE TABLE IF NOT EXISTS pending_rollup_day (
    day DATE,
    table_name VARCHAR
);

-- built_rollup: each rollup built whole at least once since this migration. A rollup not
-- listed (a warehouse from before it, whose loads since its last publish were never
-- recorded; a rollup whose definition changed) is built whole at the next publish.
CREATE TABLE IF NOT EXISTS built_rollup (
    name VARCHAR,
    built_at TIMESTAMP
);
