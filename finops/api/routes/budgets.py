"""GET /api/budgets: each budget's status (actual, forecast, thresholds) as of a day.

Budgets are declared in finops.yaml (reviewed in Git) and are read-only here. The numbers
come from ``finops.alerts.reads.budget_status``; a team token sees only its team's budgets.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Query
from fastapi.responses import Response

from finops.alerts.reads import budget_status, team_report
from finops.alerts.spend import spend_columns
from finops.api import queries
from finops.api.auth import Principal
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep
from finops.api.downloads import FormatQuery, as_file, filename
from finops.api.reader import SnapshotReader
from models.api import DAYS_ACCEPTED, BudgetReportResponse, BudgetsResponse, Day
from models.config import FinOpsConfig

router = APIRouter(prefix="/api", tags=["budgets"])


def budget_rows(reader: SnapshotReader, config: FinOpsConfig, principal: Principal,
                as_of: date) -> list[dict[str, Any]]:
    """The budgets ``principal`` may see. Every budget is evaluated once per snapshot and day
    (the finance page, each team's page and this route share it; the config does not change
    while the process runs)."""
    rows = reader.generation.fact(("budgets", as_of),
                                  lambda: _evaluate(reader, config, as_of))
    return principal.visible_rows(list(rows))


def _evaluate(reader: SnapshotReader, config: FinOpsConfig, as_of: date) -> list[dict[str, Any]]:
    source = reader.source(spend_columns(config))
    cursor = reader.cursor()
    try:
        return budget_status(cursor, config, as_of, source)
    finally:
        cursor.close()


@router.get("/budgets", response_model=BudgetsResponse)
def budgets(
    principal: PrincipalDep,
    ctx: ContextDep,
    reader: ReaderDep,
    as_of: Annotated[Day | None, Query(description="Evaluate as of this day (default: last "
                                                   f"day with data; {DAYS_ACCEPTED}).")] = None,
    format: FormatQuery = "json",
) -> BudgetsResponse | Response:
    """Budget vs actual vs forecast for every budget the caller may see
    (``format=csv|parquet``: one row per budget, each in its own ``currency``)."""
    day = as_of or reader.data_through() or date.today()
    if format != "json":
        rows = budget_rows(reader, ctx.config, principal, day)
        return as_file(budget_frame(rows), format,
                       filename("budgets", day), queries.currency(reader, reader.window(None, day)))
    return BudgetsResponse(as_of=day, currency=queries.currency(reader, reader.window(None, day)),
                           budgets=budget_rows(reader, ctx.config, principal, day))


@router.get("/budgets/report", response_model=BudgetReportResponse)
def budgets_report(
    principal: PrincipalDep,
    ctx: ContextDep,
    reader: ReaderDep,
    team: Annotated[str, Query(description="The team whose budgets to report.")],
    as_of: Annotated[Day | None, Query(description=f"Evaluate as of this day ({DAYS_ACCEPTED})."
                                       )] = None,
) -> BudgetReportResponse:
    """A team's budget report: each budget's actual, % used, forecast and what crossed (what
    `budget_reports` posts daily or weekly)."""
    principal.require_team(team)
    cursor = reader.cursor()
    try:
        message = team_report(cursor, ctx.config, ctx.settings, team, as_of)
    finally:
        cursor.close()
    return BudgetReportResponse(team=team, **message)


def budget_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Budget status dicts -> one row per budget: the frame the finance page draws
    (``dashboards.figures.budget_vs_actual``) and the budgets' CSV."""
    def forecast(row: dict[str, Any], key: str) -> float | None:
        found = row.get("forecast") or {}
        value = found.get(key)
        return float(value) if value is not None and found.get("ok") else None

    text = {k: [str(r.get(k) or "") for r in rows] for k in ("budget", "team", "currency",
                                                             "period_start", "period_end")}
    money = {"amount": [float(r["amount"]) for r in rows],
             "actual": [float(r["actual"]) for r in rows],
             **{f"forecast{suffix}": [forecast(r, key) for r in rows]
                for suffix, key in (("", "point"), ("_low", "low"), ("_high", "high"))}}
    schema = {**dict.fromkeys(text, pl.String), **dict.fromkeys(money, pl.Float64)}
    return pl.DataFrame({**text, **money}, schema=schema)
