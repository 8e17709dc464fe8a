"""The compacted daily bill, ``cost_line_compact``, kept up to date by the bill's loads.

The engine reads a day's bill as one line per distinct engine-relevant attributes, money
summed (``finops.allocation.inputs.compact_bill``: only lines the bill split per pod keep
their hour). That grouping of ``cost_line_daily`` depends on the bill alone, not on
``finops.yaml``, so it is computed when the bill changes rather than at every allocation:
every load that changes ``cost_line`` (any billing ingest, a restatement, an append,
retention) records the days its removed and written lines bear on (``finops.rollups
.mark_pending``, the record the serving rollups use, under ``cost_line``), and
``rebuild_pending`` computes exactly those days again before the load commits (``Warehouse
.load``). Migration 0011 marks every day of an existing bill, which ``Warehouse.migrate``
builds once the views exist. Rows are written sorted by day, so a one-day read skips the
other days' row groups by their min/max.
"""

from __future__ import annotations

from datetime import date

import duckdb

from finops.rollups import MONEY, PENDING, pending_days
from models.loads import DAYS_WHERE
from models.schemas import COST_LINE, COST_LINE_COMPACT

TABLE = COST_LINE_COMPACT.name
KEYS = tuple(c for c in COST_LINE_COMPACT.columns if c not in MONEY)
# Lines the bill split per pod are placed at their hour; every other line counts for its day.
_HOUR = ("CASE WHEN x_namespace IS NOT NULL OR x_pod IS NOT NULL "
         "THEN date_trunc('hour', charge_period_start) END AS charge_period_start")


def compact_sql(days: str) -> str:
    """The compacted bill of the days ``days`` (a condition on ``day``) among $first..$last,
    computed from ``cost_line_days``: what the table holds for them."""
    keys = ", ".join(c for c in KEYS if c != "charge_period_start")
    money = ", ".join(f"sum({m}) AS {m}" for m in MONEY)
    return (f"SELECT {keys}, {_HOUR}, {money} FROM cost_line_days($first, $last) "
            f"WHERE {days} GROUP BY ALL")


REBUILD_SQL = (f"INSERT INTO {TABLE} BY NAME {compact_sql(DAYS_WHERE)} ORDER BY day")
# A day's compacted bill, in the engine's column order (``finops.pipeline.inputs``).
DAY_SQL = f"SELECT {', '.join(COST_LINE_COMPACT.columns)} FROM {TABLE} WHERE day = $day"


def rebuild(con: duckdb.DuckDBPyConnection, days: list[date]) -> int:
    """Compute ``days`` of the table again from the bill (inside the caller's transaction);
    returns the rows written."""
    if not days:
        return 0
    params = {"first": min(days), "last": max(days), "days": days}
    con.execute(f"DELETE FROM {TABLE} WHERE {DAYS_WHERE}", params)
    row = con.execute(REBUILD_SQL, params).fetchone()
    return int(row[0]) if row else 0


def rebuild_pending(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild the days marked pending for ``cost_line`` and clear their marks; rows written."""
    rows = rebuild(con, pending_days(con, [COST_LINE.name]))
    con.execute(f"DELETE FROM {PENDING} WHERE table_name = $table", {"table": COST_LINE.name})
    return rows
