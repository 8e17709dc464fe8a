"""GET /api/budgets: each budget's status (actual, forecast, thresholds) as of a day.

Budgets are declared in finops.yaml (reviewed in Git) and are read-only here. The numbers
come from ``finops.budgets.budget_status``; a team token sees only its team's budgets.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from finops.api.auth import Principal
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep
from finops.api.reader import Reader
from finops.api.routes.teams import NotImplementedYet
from models.api import DAYS_ACCEPTED, BudgetsResponse, Day
from models.config import FinOpsConfig

router = APIRouter(prefix="/api", tags=["budgets"])


def optional_function(name: str, *modules: str) -> Callable[..., Any]:
    """``name`` from the first of ``modules`` that defines it (built by another area)."""
    for module in modules:
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            found = None
        if found is not None:
            return found  # type: ignore[no-any-return]
    raise NotImplementedYet(f"{name} is not available in this build ({', '.join(modules)})")


def scoped(rows: list[dict[str, Any]], principal: Principal) -> list[dict[str, Any]]:
    """A team token keeps only rows of its team (budgets scoped by a filter are hidden)."""
    if principal.team is None:
        return rows
    return [row for row in rows if row.get("team") == principal.team]


def budget_rows(reader: Reader, config: FinOpsConfig, principal: Principal,
                as_of: date) -> list[dict[str, Any]]:
    budget_status = optional_function("budget_status", "finops.budgets", "finops.alerts")
    cursor = reader.cursor()
    try:
        return scoped(budget_status(cursor, config, as_of), principal)
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
    return BudgetsResponse(as_of=day, budgets=budget_rows(reader, ctx.config, principal, day))
