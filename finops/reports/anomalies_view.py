"""Recent spend anomalies for the pages: the one place the dashboards read anomalies from.

It reads spend the way ``finops.alerts`` does (per day and team, cluster, namespace, service,
cost kind) and calls what detects anomalies (``finops.anomalies.detect``), so when anomaly
detection moves (the alerts package), only this module's imports change.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from finops.anomalies import detect

SPEND_COLUMNS = ("team", "cluster", "namespace", "service_name", "cost_kind", "currency")

BASELINE_DAYS = 14  # finops.anomalies' default baseline
RECENT_DAYS = 14


def recent(con: duckdb.DuckDBPyConnection, through: date, *, team: str | None = None,
           days: int = RECENT_DAYS, source: str = "allocation") -> list[dict[str, Any]]:
    """Anomalies (``Anomaly.as_dict``, root causes ranked) of the ``days`` days up to
    ``through``, newest first; ``team``: that team's only. ``source``: the allocation or a
    rollup with ``finops.alerts.SPEND_COLUMNS``."""
    rows = con.execute(f"SELECT min(day), max(day) FROM {source}").fetchall()
    row = rows[0] if rows else None
    if row is None or row[0] is None:
        return []
    span: tuple[date, date] = (row[0], row[1])
    last = min(through, span[1])
    first_day = last - timedelta(days=days - 1)
    spend = _spend(con, first_day - timedelta(days=BASELINE_DAYS), last, team, source)
    checked = [first_day + timedelta(days=i) for i in range(days) if first_day
               + timedelta(days=i) >= span[0]]
    found = detect(spend, checked, span[0])
    return [a.as_dict() for a in sorted(found, key=lambda a: (a.day, a.impact), reverse=True)]


def _spend(con: duckdb.DuckDBPyConnection, start: date, end: date, team: str | None,
           source: str) -> pl.DataFrame:
    keys = ", ".join(SPEND_COLUMNS)
    scope = "AND team = $team" if team is not None else ""
    return con.sql(f"SELECT day, {keys}, sum(effective_cost) AS effective_cost FROM {source} "
                   f"WHERE day BETWEEN $start AND $end {scope} GROUP BY ALL",
                   params={"start": start, "end": end,
                           **({"team": team} if team is not None else {})}).pl()


def columns() -> set[str]:
    """The allocation columns ``recent`` reads (for choosing a rollup)."""
    return set(SPEND_COLUMNS)
