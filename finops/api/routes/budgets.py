"""GET /api/budgets: each budget's status (actual, forecast, thresholds) as of a day.

Budgets are declared in finops.yaml (reviewed in Git) and are read-only here. The numbers
come from ``finops.alerts.reads.budget_status``; a team token sees only its team's budgets.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from finops.alerts.reads import budget_status, team_report
from finops.alerts.spend import spend_columns
from finops.api import queries
from finops.api.auth import Principal
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep
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
) -> BudgetsResponse:
    """Budget vs actual vs forecast for every budget the caller may see."""
    day = as_of or reader.data_through() or date.today()
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
