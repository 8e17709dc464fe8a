-- Raw samples of the live Kubernetes collector (`finops ingest k8s`), kept a few hours so
-- each new snapshot can rebuild the hourly rows of the hours it touches from all samples
-- of those hours. One row per (cluster, snapshot time, kind); `frame` is the sample frame
-- as Arrow IPC bytes (schemas in ingestion/k8s/hours.py). Internal: not part of the
-- platform team's SQL contract.
CREATE TABLE IF NOT EXISTS k8s_snapshot (
    cluster VARCHAR,
    taken_at TIMESTAMP,
    kind VARCHAR,
    frame BLOB
);
