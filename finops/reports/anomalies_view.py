"""Recent spend anomalies for the pages: the one place the dashboards read anomalies from.

The pages show the anomalies the alert checks found and recorded (``finops budgets check``,
``finops.alerts``: every monitor — team, unowned spend, account, service, cluster — with
its root causes), so a page and the Slack thread a team got tell the same story; an anomaly
that went on for several days is one row, from its first day to its last.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from finops.alerts import reads

RECENT_DAYS = 14


def recent(con: duckdb.DuckDBPyConnection, through: date, *, team: str | None = None,
           days: int = RECENT_DAYS) -> list[dict[str, Any]]:
    """Anomalies (``Anomaly.as_dict`` plus ``end_day``) under way in the ``days`` days up to
    ``through``, newest first; ``team``: that team's only. None before any check ran."""
    first = through - timedelta(days=days - 1)
    found = [{**row["facts"], "end_day": row["end_day"].isoformat(),
              "impact": round(float(row["impact"]), 2)}
             for row in reads.anomalies(con, team)
             if row["start_day"] <= through and row["end_day"] >= first and row["facts"]]
    return sorted(found, key=lambda a: (a["day"], a["impact"]), reverse=True)
