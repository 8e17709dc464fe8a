-- 0010: the views' digest (finops/warehouse.py). Opening the warehouse recreated every view
-- and macro of sql/views each time (catalog writes DuckDB syncs to disk: ~0.15 s of every
-- command); now only when their SQL (or DuckDB's version) differs from the set recorded here,
-- or after a migration.
CREATE TABLE IF NOT EXISTS view_set (
    digest VARCHAR,
    created_at TIMESTAMP
);
