"""Acknowledge and snooze from Slack: the buttons of a budget conversation's parent.

Slack posts a button press to ``POST /api/slack/interactions`` (the app's Interactivity
Request URL) as a form field ``payload`` (JSON), signed: ``X-Slack-Signature`` is ``v0=`` +
hex HMAC-SHA256 of ``v0:<X-Slack-Request-Timestamp>:<raw body>`` with the app's signing
secret. ``verify`` recomputes it and compares in constant time, and refuses a timestamp
more than five minutes from now (a replayed request). That signature is the route's only
authentication: Slack holds no finops token or session, so the route stays outside the
token/session/CSRF machinery on purpose (a browser cannot forge the signature either).

Presses are kept in a small SQLite file (``Settings.interactions_path``) rather than the
warehouse: the API never takes the warehouse's writer lock (a long ``allocate`` holds it,
and Slack wants an answer within three seconds), while SQLite lets the API write and
``budgets check`` read from other processes. Each check copies the presses into the
warehouse (``alert_interaction``), honours snoozes (a snoozed budget posts nothing new until
the snooze ends) and shows who acknowledged in the conversation's parent. The press is also
shown at once: the message is replaced through the press's ``response_url`` (only URLs under
``FINOPS_SLACK__RESPONSE_URL_PREFIX``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from finops.alerts.compose import ACK, SNOOZE, SNOOZE_DAYS, with_marks
from models.config import FinOpsConfig
from models.errors import AuthError, InputError

MAX_SKEW_S = 300
SCHEMA = """CREATE TABLE IF NOT EXISTS press (
    id TEXT PRIMARY KEY, conversation TEXT, budget TEXT, team TEXT, action TEXT NOT NULL,
    user_id TEXT, user_name TEXT, pressed_at TEXT NOT NULL, until TEXT, channel TEXT,
    message_ts TEXT)"""
COLUMNS = ("id", "conversation", "budget", "team", "action", "user_id", "user_name",
           "pressed_at", "until", "channel", "message_ts")
ACTIONS = {ACK: "acknowledge", SNOOZE: "snooze"}


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:<timestamp>:<body>``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str | None, signature: str | None, body: bytes,
           now: float) -> None:
    """AuthError unless the request is Slack's, signed within the last five minutes."""
    if not timestamp or not signature:
        raise AuthError("not a signed Slack request (X-Slack-Request-Timestamp and "
                        "X-Slack-Signature are required)")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise AuthError("X-Slack-Request-Timestamp is not a number") from None
    if abs(now - stamp) > MAX_SKEW_S:
        raise AuthError("Slack request timestamp is more than 5 minutes from now "
                        "(a replayed request?)")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise AuthError("Slack request signature does not match")


def budget_of(conversation: str) -> tuple[str, str] | None:
    """(budget name, period) of ``budget:<name>:<period>``."""
    if not conversation.startswith("budget:") or ":" not in conversation[7:]:
        return None
    name, period = conversation[7:].rsplit(":", 1)
    return name, period


def parse(body: bytes) -> dict[str, Any]:
    """The JSON ``payload`` form field of an interaction request."""
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=True)
        payload = json.loads(fields["payload"][0])
    except (UnicodeDecodeError, ValueError, KeyError, IndexError):
        raise InputError("an interaction request carries a JSON `payload` form field") from None
    if not isinstance(payload, dict):
        raise InputError("the interaction `payload` is not a JSON object")
    return payload


def press_of(payload: dict[str, Any], config: FinOpsConfig,
             now: datetime) -> dict[str, Any] | None:
    """The acknowledgement or snooze a ``block_actions`` payload carries (None: another
    button, e.g. the dashboard link, or another kind of interaction)."""
    actions = [a for a in payload.get("actions") or [] if a.get("action_id") in ACTIONS]
    if payload.get("type") != "block_actions" or not actions:
        return None
    action, user = actions[0], payload.get("user") or {}
    conversation = str(action.get("value") or "")
    found = budget_of(conversation)
    budget = config_budget(config, found[0]) if found else None
    kind = ACTIONS[action["action_id"]]
    container = payload.get("container") or {}
    return {"id": f"{action.get('action_ts') or now.timestamp()}:{user.get('id')}:{kind}",
            "conversation": conversation, "budget": found[0] if found else None,
            "team": budget.team if budget else None, "action": kind,
            "user_id": user.get("id"), "user_name": user.get("username") or user.get("name"),
            "pressed_at": now, "until": now + timedelta(days=SNOOZE_DAYS)
            if kind == "snooze" else None,
            "channel": (payload.get("channel") or {}).get("id") or container.get("channel_id"),
            "message_ts": container.get("message_ts")}


def config_budget(config: FinOpsConfig, name: str) -> Any:
    return next((b for b in config.budgets if b.name == name), None)


def marks(presses: list[dict[str, Any]], now: datetime) -> list[str]:
    """What a parent says about the presses on it: who acknowledged, a snooze in force."""
    lines = []
    for press in sorted(presses, key=lambda p: str(p["pressed_at"])):
        who = f"<@{press['user_id']}>" if press.get("user_id") else "someone"
        at = _minute(press["pressed_at"])
        if press["action"] == "acknowledge":
            lines.append(f":white_check_mark: Acknowledged by {who} on {at} UTC")
        elif _as_time(press["until"]) > now:
            lines.append(f":zzz: Snoozed by {who} on {at} UTC until "
                         f"{_minute(press['until'])} UTC: nothing new is posted until then")
    return lines


def _as_time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _minute(value: Any) -> str:
    return _as_time(value).strftime("%Y-%m-%d %H:%M")


def acknowledged_message(payload: dict[str, Any], press: dict[str, Any],
                         now: datetime) -> dict[str, Any] | None:
    """The pressed message with the press shown, for ``response_url``."""
    message = payload.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("blocks"), list):
        return None
    shown = with_marks({"text": message.get("text", ""), "blocks": message["blocks"]},
                       marks([press], now))
    return {"replace_original": True, "text": shown["text"], "blocks": shown["blocks"]}


class InteractionStore:
    """The SQLite file of presses; each call opens its own connection (processes share it)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            con.execute(SCHEMA)
            yield con
        finally:
            con.close()

    def record(self, press: dict[str, Any]) -> None:
        values = [press[c].isoformat() if isinstance(press[c], datetime) else press[c]
                  for c in COLUMNS]
        with self._connect() as con:
            con.execute(f"INSERT OR IGNORE INTO press VALUES ({', '.join('?' * len(COLUMNS))})",
                        values)

    def presses(self, team: str | None = None) -> list[dict[str, Any]]:
        """Every press, oldest first (a team's only, when ``team`` is given)."""
        if not self.path.exists():
            return []
        with self._connect() as con:
            found = con.execute("SELECT * FROM press " + ("WHERE team = ? " if team else "")
                                + "ORDER BY pressed_at, id", [team] if team else []).fetchall()
        return [{**dict(zip(COLUMNS, row, strict=True)),
                 "pressed_at": _as_time(row[7]), "until": _as_time(row[8]) if row[8] else None}
                for row in found]


def snoozed(presses: list[dict[str, Any]], now: datetime) -> dict[str, datetime]:
    """Budget -> the end of the snooze in force on it."""
    ends: dict[str, datetime] = {}
    for press in presses:
        if press["action"] == "snooze" and press["budget"] and press["until"] > now:
            ends[press["budget"]] = max(press["until"], ends.get(press["budget"], now))
    return ends
