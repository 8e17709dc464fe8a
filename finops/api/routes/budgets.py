"""GET /api/budgets: each budget's status (actual, forecast, thresholds) as of a day.

Budgets are declared in finops.yaml (reviewed in Git) and are read-only here. The numbers
come from ``finops.alerts.budget_status``; a team token sees only its team's budgets.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from finops.alerts import budget_status
from finops.api import queries
from finops.api.auth import Principal
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep
from finops.api.reader import SnapshotReader
from models.api import DAYS_ACCEPTED, BudgetsResponse, Day
from models.config import FinOpsConfig

router = APIRouter(prefix="/api", tags=["budgets"])


def budget_rows(reader: SnapshotReader, config: FinOpsConfig, principal: Principal,
                as_of: date) -> list[dict[str, Any]]:
    cursor = reader.cursor()
    try:
        return principal.visible_rows(budget_status(cursor, config, as_of))
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
