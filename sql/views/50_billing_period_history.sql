-- Every load of every billing period: which run, what it did (new, unchanged,
-- extended, restated, replaced, appended), lines and totals before and after, the runs it
-- replaced, and the delivery's export, manifest and data files.
CREATE OR REPLACE VIEW billing_period_history AS
SELECT
    p.source,
    p.billing_account_id,
    p.billing_period_start,
    r.started_at,
    p.run_id,
    p.action,
    p.billing_currency,
    p.lines_before,
    p.lines_after,
    p.billed_before,
    p.billed_after,
    p.effective_before,
    p.effective_after,
    p.replaced_runs,
    p.kept_runs,
    d.kind,
    d.export,
    d.version,
    d.manifest,
    (SELECT list(f.file ORDER BY f.file) FROM ingest_files f
     WHERE f.run_id = p.run_id AND f.role = 'data') AS files
FROM ingest_partitions p
JOIN ingest_runs r USING (run_id)
LEFT JOIN ingest_deliveries d USING (run_id);
