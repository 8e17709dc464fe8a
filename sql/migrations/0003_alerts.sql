-- 0003: the alert outbox. Every budget threshold, anomaly and digest is written here first
-- and delivered to Slack afterwards, so a Slack failure is retried on the next run and
-- nothing is sent twice: alert_key is the identity of an alert, e.g.
-- budget:<name>:<period>:<actual|forecast>:<percent>, anomaly:<team>:<day>,
-- digest:unowned:<iso week>. Inserting an existing key is a no-op (each fires once).
CREATE TABLE IF NOT EXISTS alert_outbox (
    alert_key VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,          -- budget | anomaly | digest
    team VARCHAR,                   -- null for the platform digest and filter budgets
    channel VARCHAR NOT NULL,
    payload JSON NOT NULL,          -- {"text", "blocks", "facts"}
    status VARCHAR NOT NULL DEFAULT 'pending',  -- pending | sent | dead
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error VARCHAR,
    slack_ts VARCHAR,               -- Slack's message timestamp once sent
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
