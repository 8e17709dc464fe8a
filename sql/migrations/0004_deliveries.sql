-- Bill deliveries (issue 14): what each ingest run of a bill loaded, and what it did to each
-- billing period, so the history of a period can be queried with SQL (see the view
-- billing_period_history). Written with the run's row in ingest_runs (failed runs too: their
-- delivery and files, never partitions, since a failed run changes nothing).

-- The delivery a run loaded: one row per run of focus / azure / gcp-billing.
CREATE TABLE ingest_deliveries (
    run_id VARCHAR PRIMARY KEY,   -- ingest_runs.run_id
    kind VARCHAR NOT NULL,        -- aws-data-export | azure-export | shards | files | bigquery
    export VARCHAR,               -- the export it belongs to (NULL: loose files, no proof)
    version VARCHAR,              -- UTC ISO time ordering the deliveries of one export
    manifest VARCHAR              -- the manifest read (URI), if any
);

-- Every file of a run's delivery, with its checksum (loading the same bytes again is a no-op).
CREATE TABLE ingest_files (
    run_id VARCHAR NOT NULL,
    file VARCHAR NOT NULL,        -- s3://bucket/key, an absolute path, bq://table; = cost_line.x_source_file
    role VARCHAR NOT NULL,        -- data | manifest
    sha256 VARCHAR,
    bytes BIGINT,
    rows BIGINT,                  -- data rows read from it
    PRIMARY KEY (run_id, file)
);

-- What a run did to each (source, billing account, billing period) its delivery holds.
CREATE TABLE ingest_partitions (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    billing_account_id VARCHAR NOT NULL,
    billing_period_start TIMESTAMP NOT NULL,
    billing_currency VARCHAR,
    action VARCHAR NOT NULL,      -- new | unchanged | extended | restated | replaced | appended
    lines_before BIGINT NOT NULL,
    lines_after BIGINT NOT NULL,
    billed_before DOUBLE NOT NULL,
    billed_after DOUBLE NOT NULL,
    effective_before DOUBLE NOT NULL,
    effective_after DOUBLE NOT NULL,
    replaced_runs VARCHAR[],      -- earlier runs whose rows of the period this run deleted
    kept_runs VARCHAR[],          -- earlier runs whose rows of the period stay beside its own
    PRIMARY KEY (run_id, billing_account_id, billing_period_start)
);
