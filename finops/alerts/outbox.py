"""The alert outbox (``alert_outbox``, migrations 0003 and 0007): every message is written
here first and delivered afterwards, so nothing is lost when a channel fails and nothing is
sent twice.

A row is one message: ``post`` (a new message; with ``conversation`` set it opens that
conversation) or ``reply`` (in the conversation's thread). ``seq`` orders them: a budget's
messages go out in the order they were written. States:

    pending --claim--> sending --(outcome)--> sent | pending (attempts + 1) | dead
                          \\--(run killed)--> claimed again, looked up before it is re-sent

``claim`` and ``apply`` run under the warehouse's writer lock; what happens between them
(network waits) does not (``finops.alerts.delivery``). ``retry`` puts dead letters back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from finops.alerts.channels import Message
from finops.alerts.channels.email import message_id
from finops.alerts.spend import one

COLUMNS = ("alert_key", "kind", "team", "channel", "transport", "op", "conversation", "seq",
           "status", "attempts", "last_error", "slack_ts", "created_at", "sent_at",
           "claimed_at", "dead_at", "payload")
STATUSES = ("pending", "sending", "sent", "dead")


@dataclass(frozen=True)
class Row:
    """A message to write: its identity, kind (budget, anomaly, digest, report) and where."""

    key: str
    kind: str
    team: str | None
    channel: str
    transport: str
    payload: dict[str, Any]
    op: str = "post"
    conversation: str | None = None


def exists(con: duckdb.DuckDBPyConnection, key: str) -> bool:
    return bool(one(con, "SELECT count(*) FROM alert_outbox WHERE alert_key = ?", [key])[0])


def enqueue(con: duckdb.DuckDBPyConnection, row: Row, now: datetime) -> bool:
    """Write ``row`` unless its key was ever written; True when it is new."""
    if exists(con, row.key):
        return False
    seq = one(con, "SELECT coalesce(max(seq), 0) + 1 FROM alert_outbox")[0]
    con.execute(
        "INSERT INTO alert_outbox (alert_key, kind, team, channel, transport, op, conversation, "
        "seq, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [row.key, row.kind, row.team, row.channel, row.transport, row.op, row.conversation,
         seq, json.dumps(row.payload, default=str), now])
    return True


def rows(con: duckdb.DuckDBPyConnection, where: str = "TRUE",
         params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Outbox rows as dicts (``payload`` parsed), in delivery order."""
    cursor = con.execute(f"SELECT {', '.join(COLUMNS)} FROM alert_outbox WHERE {where} "
                         "ORDER BY seq, alert_key", params or [])
    found = []
    for values in cursor.fetchall():
        record = dict(zip(COLUMNS, values, strict=True))
        record["payload"] = json.loads(record["payload"])
        found.append(record)
    return found


def pending(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return rows(con, "status = 'pending'")


# -- claiming and recording (under the writer lock) ----------------------------------------

def thread_refs(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None]]:
    """Conversations whose parent was delivered: conversation -> (its reference, channel ID)."""
    found = con.execute("SELECT conversation, ts, channel_id FROM alert_conversation "
                        "WHERE ts IS NOT NULL").fetchall()
    return {c: (ts, channel_id) for c, ts, channel_id in found}


def claim(con: duckdb.DuckDBPyConnection, run: str, now: datetime) -> list[Message]:
    """Claim every pending message and those a killed run left ``sending`` (they may have
    gone out: ``uncertain``), then the parents to update, in delivery order."""
    refs = thread_refs(con)
    parents = _parent_states(con)
    claimed = [{**r, "payload": parents.get(r["alert_key"], r["payload"])}
               for r in rows(con, "status IN ('pending', 'sending')")]
    con.execute("UPDATE alert_outbox SET status = 'sending', claimed_by = ?, "
                "claimed_at = coalesce(claimed_at, ?) WHERE status IN ('pending', 'sending')",
                [run, now])
    messages = [_message(r, refs, now) for r in claimed]
    return messages + updates(con)


def _parent_states(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """A parent not yet posted goes out as its conversation stands now."""
    found = con.execute("SELECT parent_key, state FROM alert_conversation "
                        "WHERE ts IS NULL AND state IS NOT NULL").fetchall()
    return {key: json.loads(text) for key, text in found}


def _message(row: dict[str, Any], refs: dict[str, tuple[str, str | None]],
             now: datetime) -> Message:
    conversation = row["conversation"]
    ref, channel_id = refs.get(conversation or "", (None, None))
    return Message(
        key=row["alert_key"], op=row["op"], transport=row["transport"], channel=row["channel"],
        payload=row["payload"], conversation=conversation,
        thread=ref if row["op"] == "reply" else None, channel_id=channel_id,
        since=row["claimed_at"] or now, attempts=int(row["attempts"]),
        uncertain=row["status"] == "sending")


def updates(con: duckdb.DuckDBPyConnection) -> list[Message]:
    """Parents whose state changed since they were last posted or updated."""
    found = con.execute(
        "SELECT conversation, channel, transport, ts, channel_id, state, version "
        "FROM alert_conversation WHERE version > synced AND ts IS NOT NULL "
        "AND transport IN ('slack', 'webhook') ORDER BY updated_at, conversation").fetchall()
    return [Message(key=f"update:{c}:{version}", op="update", transport=transport,
                    channel=channel, payload=json.loads(state), conversation=c, ref=ts,
                    channel_id=channel_id)
            for c, channel, transport, ts, channel_id, state, version in found]


def parent_ref(transport: str, key: str, sent_ref: str | None) -> str | None:
    """What replies to a parent thread on: Slack's ts, the mail's Message-ID, the key."""
    return message_id(key) if transport == "email" else sent_ref


def apply(con: duckdb.DuckDBPyConnection, entries: list[dict[str, Any]], run: str | None,
          max_attempts: int, now: datetime) -> None:
    """Record a run's outcomes (``finops.alerts.journal``), then give back what ``run``
    claimed and did not try. (A killed run's leftovers are applied with ``run`` None: what
    it claimed and did not journal stays ``sending``, to be looked up before a resend.)"""
    for entry in entries:
        if entry["op"] == "update":
            _applied_update(con, entry)
        else:
            _applied(con, entry, max_attempts, now)
    if run is None:
        return
    con.execute("UPDATE alert_outbox SET status = 'pending', claimed_by = NULL "
                "WHERE status = 'sending' AND claimed_by = ?", [run])


def _applied(con: duckdb.DuckDBPyConnection, entry: dict[str, Any], max_attempts: int,
             now: datetime) -> None:
    key, outcome = entry["key"], entry["outcome"]
    if outcome == "sent":
        con.execute("UPDATE alert_outbox SET status = 'sent', attempts = attempts + 1, "
                    "sent_at = ?, slack_ts = ?, last_error = NULL, claimed_by = NULL "
                    "WHERE alert_key = ?", [now, entry.get("ref"), key])
        con.execute("UPDATE alert_conversation SET ts = ?, channel_id = coalesce(?, "
                    "channel_id), synced = version WHERE parent_key = ?",
                    [entry.get("thread_ref"), entry.get("channel_id"), key])
    elif outcome == "released":
        con.execute("UPDATE alert_outbox SET status = 'pending', claimed_by = NULL "
                    "WHERE alert_key = ?", [key])
    else:
        dead = outcome == "dead"
        con.execute(
            "UPDATE alert_outbox SET attempts = attempts + 1, last_error = ?, claimed_by = NULL, "
            "status = CASE WHEN ? OR attempts + 1 >= ? THEN 'dead' ELSE 'pending' END, "
            "dead_at = CASE WHEN ? OR attempts + 1 >= ? THEN ? END WHERE alert_key = ?",
            [entry.get("error"), dead, max_attempts, dead, max_attempts, now, key])


def _applied_update(con: duckdb.DuckDBPyConnection, entry: dict[str, Any]) -> None:
    # A failed update is tried again next run (version stays ahead); one Slack refuses for
    # good (message deleted, edit window closed) is given up, or it would be retried forever.
    if entry["outcome"] in ("sent", "dead"):
        con.execute("UPDATE alert_conversation SET synced = greatest(synced, ?), "
                    "channel_id = coalesce(?, channel_id) WHERE conversation = ?",
                    [entry["version"], entry.get("channel_id"), entry["conversation"]])


# -- visibility ------------------------------------------------------------------------------

def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    found = dict(con.execute("SELECT status, count(*) FROM alert_outbox GROUP BY status")
                 .fetchall())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def oldest_pending(con: duckdb.DuckDBPyConnection) -> datetime | None:
    return one(con, "SELECT min(created_at) FROM alert_outbox "
               "WHERE status IN ('pending', 'sending')")[0]


def retry(con: duckdb.DuckDBPyConnection, keys: list[str]) -> list[str]:
    """Put dead letters back in line (attempts from zero); returns the keys requeued."""
    found = [k for (k,) in con.execute(
        "SELECT alert_key FROM alert_outbox WHERE status = 'dead' AND alert_key IN "
        "(SELECT unnest(?)) ORDER BY seq", [keys]).fetchall()]
    con.execute("UPDATE alert_outbox SET status = 'pending', attempts = 0, dead_at = NULL, "
                "claimed_by = NULL, claimed_at = NULL WHERE alert_key IN (SELECT unnest(?))",
                [found])
    return found
