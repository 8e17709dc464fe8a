"""What the alerts read from the warehouse: allocated spend for budgets, daily series and root
causes for the anomaly monitors, per-day fingerprints, and scopes the data has never seen.

Every function takes a DuckDB connection: the writer's during ``budgets check``, a read-only
one on the published snapshot in the API. Values are always bound, never formatted; column
names come from the allocation schema only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from finops.alerts.anomalies import CAUSE_KEYS
from finops.alerts.budgets import BudgetStatus, evaluate, period_window
from finops.fx import Rates, in_currency
from finops.warehouse import CursorReader
from models.config import Budget, FinOpsConfig
from models.errors import ConfigError, CurrencyError
from models.schemas import ALLOCATION

SPEND_COLUMNS = ("team", "cluster", "namespace", "service_name", "cost_kind", "currency")
HISTORY_DAYS = 35  # forecast lookback (28) and a week to spare
# How each monitor's dimension reads from allocation (the unowned scope is one series).
DIMENSION_SQL = {"team": "team", "unowned": "CASE WHEN team IS NULL THEN 'unowned' END",
                 "account": "sub_account_id", "service": "service_name", "cluster": "cluster"}


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None,
        ) -> tuple[Any, ...]:
    """The single row of an aggregate query (fetched fully: DuckDB 2 wants results drained)."""
    return tuple(con.execute(sql, params or []).fetchall()[0])


def data_range(con: duckdb.DuckDBPyConnection,
               source: str = "allocation") -> tuple[date, date] | None:
    """First and last day with any allocated spend."""
    row = one(con, f"SELECT min(day), max(day) FROM {source}")
    return (row[0], row[1]) if row[0] is not None else None


def _text_columns() -> list[str]:
    return [n for n, t in ALLOCATION.schema.items() if t == pl.String]


def filter_columns(config: FinOpsConfig) -> list[str]:
    """Allocation columns budgets filter on; an unknown column is a config error."""
    columns: list[str] = []
    for i, budget in enumerate(config.budgets):
        for column in budget.filter:
            if column not in _text_columns():
                raise ConfigError(
                    f"finops.yaml: budgets[{i}].filter.{column}: not a text column of "
                    f"`allocation` (one of: {', '.join(sorted(_text_columns()))})")
            columns.append(column)
    return sorted(set(columns) - set(SPEND_COLUMNS))


def load_spend(con: duckdb.DuckDBPyConnection, start: date, end: date,
               extra: list[str], source: str = "allocation") -> pl.DataFrame:
    """Allocated effective cost per day and (team, cluster, namespace, service, kind, …)."""
    keys = ", ".join(f'"{c}"' for c in (*SPEND_COLUMNS, *extra))
    sql = (f"SELECT day, {keys}, sum(effective_cost) AS effective_cost FROM {source} "
           f"WHERE day BETWEEN ? AND ? GROUP BY day, {keys}")
    return con.sql(sql, params=[start, end]).pl()


def spend_currency(spend: pl.DataFrame) -> str | None:
    """The reporting currency of the spend read (None: no spend); two is a CurrencyError."""
    found = sorted(c for c in spend["currency"].unique().to_list() if c)
    if len(found) > 1:
        raise CurrencyError(f"the allocation holds {' and '.join(found)} amounts, which cannot "
                            "be added up: allocate those days again (`finops allocate`)")
    return found[0] if found else None


def budget_spend(con: duckdb.DuckDBPyConnection, config: FinOpsConfig, spend: pl.DataFrame,
                 ) -> dict[str, tuple[pl.DataFrame, dict[str, Any]]]:
    """The spend in each budget currency, and how it was converted (``finops.fx``: finops.yaml,
    loaded rates, then the exports' own rates of each day)."""
    currency = spend_currency(spend)
    out: dict[str, tuple[pl.DataFrame, dict[str, Any]]] = {}
    rates: Rates | None = None
    for wanted in sorted({b.currency for b in config.budgets}):
        if currency is None or wanted == currency:
            out[wanted] = spend, {"from": currency, "to": wanted, "rate": 1.0,
                                  "source": "same-currency"} if currency else {}
            continue
        if rates is None:
            span = (spend["day"].min(), spend["day"].max())
            rates = Rates.read(CursorReader(con), config, span)  # type: ignore[arg-type]
        out[wanted] = in_currency(spend, rates, wanted)
    return out


def _spend_window(config: FinOpsConfig, as_of: date) -> date:
    starts = [period_window(b.period, as_of).start for b in config.budgets]
    return min([as_of - timedelta(days=HISTORY_DAYS), *starts])


def spend_columns(config: FinOpsConfig) -> set[str]:
    """The allocation columns budgets read (a rollup that has them all may serve them)."""
    return {*SPEND_COLUMNS, *filter_columns(config)}


def evaluate_all(con: duckdb.DuckDBPyConnection, config: FinOpsConfig, as_of: date | None,
                 today: date, source: str = "allocation",
                 ) -> tuple[list[BudgetStatus], date, tuple[date, date] | None]:
    """Budget statuses on ``as_of`` (default: the last day with data, else ``today``).
    ``source``: the allocation, or a rollup of the published snapshot that has the columns
    ``spend_columns`` names (the API's choice: ``SnapshotReader.source``)."""
    span = data_range(con, source)
    day = as_of or (span[1] if span else today)
    spend = load_spend(con, _spend_window(config, day), day, filter_columns(config), source)
    spends = budget_spend(con, config, spend)
    statuses = [evaluate(b, spends[b.currency][0], day, span, spends[b.currency][1])
                for b in config.budgets if not b.starts or b.starts <= day]
    return statuses, day, span


# -- anomaly monitors ---------------------------------------------------------------------

def monitor_series(con: duckdb.DuckDBPyConnection, dimensions: list[str], start: date,
                   end: date) -> dict[tuple[str, str], dict[date, float]]:
    """Daily spend of every value of each dimension, ``start`` .. ``end``."""
    series: dict[tuple[str, str], dict[date, float]] = {}
    for dimension in dimensions:
        expr = DIMENSION_SQL[dimension]
        rows = con.execute(
            f"SELECT {expr} AS value, day, sum(effective_cost) FROM allocation "
            f"WHERE day BETWEEN ? AND ? AND {expr} IS NOT NULL GROUP BY ALL",
            [start, end]).fetchall()
        for value, day, cost in rows:
            series.setdefault((dimension, str(value)), {})[day] = float(cost or 0.0)
    return series


def cause_rows(con: duckdb.DuckDBPyConnection, dimension: str, value: str, day: date,
               baseline_start: date, baseline_n: int) -> list[dict[str, Any]]:
    """The scope's spend on ``day`` and its baseline daily mean, by root-cause grain."""
    keys = ", ".join(CAUSE_KEYS)
    cursor = con.execute(
        f"SELECT {keys}, sum(effective_cost) FILTER (WHERE day = $day) AS actual, "
        f"coalesce(sum(effective_cost) FILTER (WHERE day < $day), 0) / $n AS expected "
        f"FROM allocation WHERE day BETWEEN $start AND $day "
        f"AND {DIMENSION_SQL[dimension]} = $value GROUP BY ALL",
        {"day": day, "start": baseline_start, "n": baseline_n, "value": value})
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def regions(con: duckdb.DuckDBPyConnection, resources: list[str], clusters: list[str],
            day: date) -> dict[str, str]:
    """Region of each resource (from the bill) and of each cluster (its nodes' region)."""
    window = [day - timedelta(days=1), day + timedelta(days=2)]
    found: dict[str, str] = {}
    if resources:
        found.update(con.execute(
            "SELECT resource_id, min(region_id) FROM cost_line WHERE resource_id IN "
            "(SELECT unnest(?)) AND region_id IS NOT NULL AND charge_period_start BETWEEN ? "
            "AND ? GROUP BY 1", [resources, *window]).fetchall())
    if clusters:
        found.update({f"cluster:{c}": r for c, r in con.execute(
            "SELECT a.cluster, min(c.region_id) FROM (SELECT DISTINCT cluster, resource_id "
            "FROM allocation WHERE cluster IN (SELECT unnest(?)) AND day = ? AND resource_id "
            "IS NOT NULL) a JOIN cost_line c ON c.resource_id = a.resource_id "
            "WHERE c.region_id IS NOT NULL AND c.charge_period_start BETWEEN ? AND ? "
            "GROUP BY 1", [clusters, day, *window]).fetchall()})
    return found


def day_fingerprints(con: duckdb.DuckDBPyConnection, start: date,
                     end: date) -> dict[date, str]:
    """Per day: what its allocated data is (rows, money, the runs that wrote it). A late
    delivery or a restatement changes it."""
    rows = con.execute(
        "SELECT day, count(*)::VARCHAR || ':' || round(sum(effective_cost), 6)::VARCHAR || ':' "
        "|| string_agg(DISTINCT run_id, ',' ORDER BY run_id) FROM allocation "
        "WHERE day BETWEEN ? AND ? GROUP BY day", [start, end]).fetchall()
    return {day: str(fingerprint) for day, fingerprint in rows}


# -- scopes the data has never seen --------------------------------------------------------

def unseen_scopes(config: FinOpsConfig, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Budget teams and filter values that the allocation has never seen: such a budget would
    show 0.00 forever."""
    columns = {row[0] for row in con.execute("DESCRIBE allocation").fetchall()}
    found: list[str] = []
    for budget in config.budgets:
        found += _unseen(con, budget, columns)
    return found


def _unseen(con: duckdb.DuckDBPyConnection, budget: Budget, columns: set[str]) -> list[str]:
    found = []
    if budget.team and not _seen(con, "team", budget.team):
        found.append(f"budget {budget.name!r}: team {budget.team!r} has no allocated cost in "
                     "the warehouse")
    for column, value in budget.filter.items():
        if column not in columns:
            found.append(f"budget {budget.name!r}: filter column {column!r} is not a column "
                         f"of allocation ({', '.join(sorted(columns))})")
        elif not _seen(con, column, value):
            found.append(f"budget {budget.name!r}: filter {column}={value!r} matches no "
                         "allocation row in the warehouse")
    return found


def _seen(con: duckdb.DuckDBPyConnection, column: str, value: str) -> bool:
    # ``column`` is one of allocation's own column names (checked by the caller or literal).
    row = con.execute(f'SELECT 1 FROM allocation WHERE "{column}"::VARCHAR = ? LIMIT 1',
                      [value]).fetchone()
    return row is not None
