"""What the API and the dashboards read (a read-only connection on the published snapshot):
budget statuses with the state of each threshold's alert, the outbox, conversations and
anomalies, a team's budget report, and the outbox gauges of ``/metrics``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb

from finops.alerts import digest, outbox, spend, state
from finops.alerts.plan import team_url
from finops.settings import Settings
from models.config import FinOpsConfig

LIST_COLUMNS = ("alert_key", "kind", "team", "channel", "transport", "op", "conversation",
                "status", "attempts", "last_error", "slack_ts", "created_at", "sent_at",
                "dead_at")


def budget_status(con: duckdb.DuckDBPyConnection, config: FinOpsConfig,
                  as_of: date | None, source: str = "allocation") -> list[dict[str, Any]]:
    """Every budget's status on ``as_of`` (default: the last day with data), with the
    outbox state of each threshold's alert (None = not fired); spend read from ``source``."""
    statuses, *_ = spend.evaluate_all(con, config, as_of, date.today(), source)
    states = _safe(lambda: state.fired_states(con), {})
    out = []
    for status in statuses:
        record = status.as_dict()
        record["notify"] = status.budget.notify
        record["conversation"] = status.conversation
        for threshold in record["thresholds"]:
            threshold["alert_status"] = states.get(threshold["alert_key"])
        out.append(record)
    return out


def _safe(read: Any, default: Any) -> Any:
    try:
        return read()
    except duckdb.CatalogException:
        return default  # a snapshot published before the alert tables existed
    except duckdb.BinderException:
        return default


def list_alerts(con: duckdb.DuckDBPyConnection, team: str | None,
                status: str | None = None) -> list[dict[str, Any]]:
    """Outbox messages, newest first; ``team`` limits them to that team's."""
    where, params = [], []
    if team:
        where.append("team = ?")
        params.append(team)
    if status:
        where.append("status = ?")
        params.append(status)
    found = _safe(lambda: outbox.rows(con, " AND ".join(where) or "TRUE", params), [])
    out = []
    for row in reversed(found):
        record = {k: row[k] for k in LIST_COLUMNS}
        record.update(text=row["payload"]["text"], facts=row["payload"].get("facts", {}))
        out.append(record)
    return out


def conversations(con: duckdb.DuckDBPyConnection, team: str | None) -> list[dict[str, Any]]:
    return _safe(lambda: state.conversations(con, team), [])


def anomalies(con: duckdb.DuckDBPyConnection, team: str | None) -> list[dict[str, Any]]:
    return _safe(lambda: state.anomalies(con, team), [])


def team_report(con: duckdb.DuckDBPyConnection, config: FinOpsConfig, settings: Settings,
                team: str, as_of: date | None) -> dict[str, Any]:
    statuses, *_ = spend.evaluate_all(con, config, as_of, date.today())
    return digest.team_report(team, statuses, team_url(settings, team), settings.locale)


def gauges(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, float]:
    """Messages by status and the age of the oldest undelivered one (0: none)."""
    counts = _safe(lambda: outbox.counts(con), dict.fromkeys(outbox.STATUSES, 0))
    oldest = _safe(lambda: outbox.oldest_pending(con), None)
    age = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    return {**{f"status:{k}": float(v) for k, v in counts.items()}, "oldest_pending_s": age}
