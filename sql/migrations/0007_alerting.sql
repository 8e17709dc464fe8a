-- 0007: alerts people act on (issue 15).
-- One conversation per budget and period: the outbox rows become messages that open a
-- conversation (`post`) or join its thread (`reply`), delivered in `seq` order; a delivery
-- run claims its rows (`sending`, `claimed_by`) under the writer lock, posts without it and
-- records the outcome under it again. `transport` is slack, webhook or email.
-- Budget alerts queued before this migration and never sent were one message per threshold
-- (the flood this migration ends): they are dropped, and the next check plans them again as
-- one conversation per budget and period. Sent and dead ones are kept as history.
DELETE FROM alert_outbox WHERE kind = 'budget' AND status = 'pending';
ALTER TABLE alert_outbox ADD COLUMN seq BIGINT;
ALTER TABLE alert_outbox ADD COLUMN op VARCHAR DEFAULT 'post';
ALTER TABLE alert_outbox ADD COLUMN conversation VARCHAR;
ALTER TABLE alert_outbox ADD COLUMN transport VARCHAR DEFAULT 'slack';
ALTER TABLE alert_outbox ADD COLUMN claimed_by VARCHAR;
ALTER TABLE alert_outbox ADD COLUMN claimed_at TIMESTAMP;
ALTER TABLE alert_outbox ADD COLUMN dead_at TIMESTAMP;
UPDATE alert_outbox SET seq = o.n, op = 'post', transport = 'slack'
FROM (SELECT alert_key AS k, row_number() OVER (ORDER BY created_at, alert_key) AS n
      FROM alert_outbox) AS o
WHERE alert_outbox.alert_key = o.k;

-- A conversation: its parent message (`parent_key` in the outbox, Slack's `ts` once posted)
-- and what the parent shows now (`state`); `version` > `synced` means the parent is to be
-- updated (chat.update).
CREATE TABLE IF NOT EXISTS alert_conversation (
    conversation VARCHAR PRIMARY KEY,   -- budget:<name>:<period> | anomaly:<dimension>:<value>:<day>
    kind VARCHAR NOT NULL,              -- budget | anomaly
    subject VARCHAR NOT NULL,           -- the budget's name, or the anomaly's scope
    period VARCHAR,                     -- the budget period (2026-10, 2026-Q4, 2026-W43)
    team VARCHAR,
    channel VARCHAR NOT NULL,
    transport VARCHAR NOT NULL,
    parent_key VARCHAR NOT NULL,
    channel_id VARCHAR,                 -- Slack's ID of the channel, once known
    ts VARCHAR,
    state JSON,                         -- {"text", "blocks", "facts"} of the parent now
    version INTEGER NOT NULL DEFAULT 0,
    synced INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Each (budget, period, threshold) fires once: here, with the message that told it.
CREATE TABLE IF NOT EXISTS alert_fired (
    alert_key VARCHAR PRIMARY KEY,      -- budget:<name>:<period>:<actual|forecast>:<percent>
    conversation VARCHAR,
    message_key VARCHAR,
    fired_at TIMESTAMP NOT NULL
);
INSERT INTO alert_fired
SELECT alert_key, NULL, alert_key, created_at FROM alert_outbox WHERE kind = 'budget'
ON CONFLICT DO NOTHING;

-- One anomaly is one alert: consecutive anomalous days of a scope extend it (end_day).
CREATE TABLE IF NOT EXISTS alert_anomaly (
    anomaly_key VARCHAR PRIMARY KEY,    -- anomaly:<dimension>:<value>:<start day>
    dimension VARCHAR NOT NULL,         -- team | unowned | account | service | cluster
    value VARCHAR NOT NULL,
    team VARCHAR,
    start_day DATE NOT NULL,
    end_day DATE NOT NULL,
    impact DOUBLE NOT NULL,
    currency VARCHAR,
    conversation VARCHAR,
    message_key VARCHAR,
    facts JSON,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO alert_anomaly
SELECT 'anomaly:team:' || team || ':' || split_part(alert_key, ':', 3), 'team', team, team, CAST(split_part(alert_key, ':', 3) AS DATE),
       CAST(split_part(alert_key, ':', 3) AS DATE), 0.0, NULL, NULL, alert_key,
       NULL, created_at, created_at
FROM alert_outbox WHERE kind = 'anomaly' AND team IS NOT NULL
ON CONFLICT DO NOTHING;

-- What each day's allocated data looked like when anomalies were last checked: a day whose
-- fingerprint changed (late data, a restatement) is checked again.
CREATE TABLE IF NOT EXISTS alert_day_check (
    day DATE PRIMARY KEY,
    fingerprint VARCHAR NOT NULL,
    checked_at TIMESTAMP NOT NULL
);

-- Alerts of budgets with `notify: daily | weekly`, gathered until their digest is sent.
CREATE TABLE IF NOT EXISTS alert_digest_event (
    event_key VARCHAR PRIMARY KEY,
    budget VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    transport VARCHAR NOT NULL,
    cadence VARCHAR NOT NULL,           -- daily | weekly
    period VARCHAR NOT NULL,            -- the day or ISO week it was found in
    team VARCHAR,
    text VARCHAR NOT NULL,
    facts JSON,
    created_at TIMESTAMP NOT NULL,
    digest_key VARCHAR                  -- the digest message it went out in
);

-- Acknowledgements and snoozes pressed in Slack (copied from the interactions store by each
-- `budgets check`, so that they are in the published warehouse too).
CREATE TABLE IF NOT EXISTS alert_interaction (
    id VARCHAR PRIMARY KEY,
    conversation VARCHAR,
    budget VARCHAR,
    team VARCHAR,
    action VARCHAR NOT NULL,            -- acknowledge | snooze
    user_id VARCHAR,
    user_name VARCHAR,
    pressed_at TIMESTAMP NOT NULL,
    until TIMESTAMP,
    channel VARCHAR,
    message_ts VARCHAR
);
