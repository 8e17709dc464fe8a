"""What the alerts remember between checks (migration 0007): conversations and their parents'
state, thresholds fired, anomalies alerted (and the days they span), each day's data
fingerprint at its last check, digest events waiting for their digest, and the button
presses copied from the interactions store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from finops.alerts.spend import one

# -- conversations --------------------------------------------------------------------------

@dataclass(frozen=True)
class Conversation:
    key: str
    kind: str  # budget | anomaly
    subject: str
    period: str | None
    team: str | None
    channel: str
    transport: str
    parent_key: str
    ts: str | None
    state: dict[str, Any]


def conversation(con: duckdb.DuckDBPyConnection, key: str) -> Conversation | None:
    row = con.execute(
        "SELECT conversation, kind, subject, period, team, channel, transport, parent_key, ts, "
        "state FROM alert_conversation WHERE conversation = ?", [key]).fetchone()
    if row is None:
        return None
    return Conversation(*row[:9], json.loads(row[9]) if row[9] else {})  # type: ignore[call-arg]


def open_conversation(con: duckdb.DuckDBPyConnection, c: Conversation, now: datetime) -> None:
    con.execute(
        "INSERT INTO alert_conversation (conversation, kind, subject, period, team, channel, "
        "transport, parent_key, state, version, synced, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?)",
        [c.key, c.kind, c.subject, c.period, c.team, c.channel, c.transport, c.parent_key,
         json.dumps(c.state, default=str), now, now])


def set_state(con: duckdb.DuckDBPyConnection, key: str, state: dict[str, Any],
              now: datetime) -> bool:
    """The parent's new state; True when it differs (the parent is then updated)."""
    text = json.dumps(state, default=str, sort_keys=True)
    old = one(con, "SELECT state FROM alert_conversation WHERE conversation = ?", [key])[0]
    if old is not None and json.dumps(json.loads(old), sort_keys=True) == text:
        return False
    con.execute("UPDATE alert_conversation SET state = ?, version = version + 1, "
                "updated_at = ? WHERE conversation = ?", [text, now, key])
    return True


def conversations(con: duckdb.DuckDBPyConnection, team: str | None = None,
                  ) -> list[dict[str, Any]]:
    cursor = con.execute(
        "SELECT conversation, kind, subject, period, team, channel, transport, ts, version, "
        "synced, created_at, updated_at FROM alert_conversation "
        + ("WHERE team = ? " if team else "") + "ORDER BY created_at DESC, conversation",
        [team] if team else [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# -- thresholds fired -------------------------------------------------------------------------

def fired(con: duckdb.DuckDBPyConnection, keys: list[str]) -> set[str]:
    return {k for (k,) in con.execute("SELECT alert_key FROM alert_fired WHERE alert_key IN "
                                      "(SELECT unnest(?))", [keys]).fetchall()}


def mark_fired(con: duckdb.DuckDBPyConnection, keys: list[str], conversation_key: str | None,
               message_key: str | None, now: datetime) -> None:
    for key in keys:
        con.execute("INSERT INTO alert_fired VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [key, conversation_key, message_key, now])


def fired_in(con: duckdb.DuckDBPyConnection, conversation_key: str) -> set[str]:
    return {k for (k,) in con.execute("SELECT alert_key FROM alert_fired WHERE conversation = ?",
                                      [conversation_key]).fetchall()}


def thread_lines(con: duckdb.DuckDBPyConnection, conversation_key: str) -> list[str]:
    """What the conversation's thread holds, one line per reply (its notification text)."""
    found = con.execute("SELECT payload FROM alert_outbox WHERE conversation = ? AND op = "
                        "'reply' ORDER BY seq", [conversation_key]).fetchall()
    return [str(json.loads(p)["text"]).split(". ")[0] for (p,) in found]


def fired_states(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Threshold key -> the status of the message that told it (for the budgets API)."""
    return dict(con.execute(
        "SELECT f.alert_key, coalesce(o.status, 'sent') FROM alert_fired f LEFT JOIN "
        "alert_outbox o ON o.alert_key = f.message_key").fetchall())


# -- anomalies alerted ------------------------------------------------------------------------

def known_anomaly(con: duckdb.DuckDBPyConnection, dimension: str, value: str,
                  day: date) -> dict[str, Any] | None:
    """The anomaly of this scope that ``day`` belongs to or continues (it ended the day
    before), if one was alerted."""
    cursor = con.execute(
        "SELECT anomaly_key, start_day, end_day, conversation, message_key FROM alert_anomaly "
        "WHERE dimension = ? AND value = ? AND start_day <= ? AND end_day >= ? - 1 "
        "ORDER BY start_day DESC LIMIT 1", [dimension, value, day, day])
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip(["key", "start_day", "end_day", "conversation", "message_key"], row,
                    strict=True))


def record_anomaly(con: duckdb.DuckDBPyConnection, key: str, facts: dict[str, Any],
                   where: tuple[str | None, str | None], now: datetime) -> None:
    day = date.fromisoformat(facts["day"])
    con.execute(
        "INSERT INTO alert_anomaly VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [key, facts["dimension"], facts["value"], facts["team"], day, day, facts["impact"],
         facts["currency"], where[0], where[1], json.dumps(facts, default=str), now, now])


def extend_anomaly(con: duckdb.DuckDBPyConnection, key: str, day: date, impact: float,
                   now: datetime) -> None:
    con.execute("UPDATE alert_anomaly SET end_day = greatest(end_day, ?), impact = "
                "greatest(impact, ?), updated_at = ? WHERE anomaly_key = ?",
                [day, impact, now, key])


def anomalies(con: duckdb.DuckDBPyConnection, team: str | None = None,
              ) -> list[dict[str, Any]]:
    """Anomalies alerted, newest first (what the dashboards list)."""
    cursor = con.execute(
        "SELECT anomaly_key, dimension, value, team, start_day, end_day, impact, currency, "
        "facts FROM alert_anomaly " + ("WHERE team = ? " if team else "")
        + "ORDER BY start_day DESC, anomaly_key", [team] if team else [])
    names = [d[0] for d in cursor.description or []]
    found = []
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        record["facts"] = json.loads(record["facts"]) if record["facts"] else {}
        found.append(record)
    return found


# -- day fingerprints ---------------------------------------------------------------------------

def checked_days(con: duckdb.DuckDBPyConnection) -> dict[date, str]:
    return dict(con.execute("SELECT day, fingerprint FROM alert_day_check").fetchall())


def store_days(con: duckdb.DuckDBPyConnection, fingerprints: dict[date, str],
               now: datetime) -> None:
    for day, fingerprint in sorted(fingerprints.items()):
        con.execute("INSERT INTO alert_day_check VALUES (?, ?, ?) ON CONFLICT (day) DO UPDATE "
                    "SET fingerprint = excluded.fingerprint, checked_at = excluded.checked_at",
                    [day, fingerprint, now])


# -- digest events -----------------------------------------------------------------------------

def add_event(con: duckdb.DuckDBPyConnection, event: dict[str, Any], now: datetime) -> None:
    con.execute(
        "INSERT INTO alert_digest_event (event_key, budget, channel, transport, cadence, period, "
        "team, text, facts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [event["key"], event["budget"], event["channel"], event["transport"], event["cadence"],
         event["period"], event["team"], event["text"], json.dumps(event["facts"], default=str),
         now])


def waiting_events(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cursor = con.execute(
        "SELECT event_key, budget, channel, transport, cadence, period, team, text "
        "FROM alert_digest_event WHERE digest_key IS NULL ORDER BY created_at, event_key")
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def mark_digested(con: duckdb.DuckDBPyConnection, keys: list[str], digest_key: str) -> None:
    con.execute("UPDATE alert_digest_event SET digest_key = ? WHERE event_key IN "
                "(SELECT unnest(?))", [digest_key, keys])


# -- button presses ------------------------------------------------------------------------------

INTERACTION_COLUMNS = ("id", "conversation", "budget", "team", "action", "user_id",
                       "user_name", "pressed_at", "until", "channel", "message_ts")


def copy_interactions(con: duckdb.DuckDBPyConnection, presses: list[dict[str, Any]]) -> None:
    for press in presses:
        con.execute(f"INSERT INTO alert_interaction ({', '.join(INTERACTION_COLUMNS)}) VALUES "
                    f"({', '.join('?' * len(INTERACTION_COLUMNS))}) ON CONFLICT DO NOTHING",
                    [press.get(c) for c in INTERACTION_COLUMNS])
