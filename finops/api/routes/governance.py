"""GET /api/governance: findings with the money at stake (``finops.governance``).

Platform and finance see every finding; a team token sees the findings about its own team
(its namespaces without quotas, its quota ceiling against its budget, its workloads missing
from the catalog, the exemptions over its namespaces), never unowned spend or another team.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

import duckdb
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from dashboards import controls
from dashboards import governance as governance_cards
from dashboards.pages import page
from finops.api import assets
from finops.api.auth import Principal
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep
from finops.api.downloads import FormatQuery, as_file, filename, rows_frame
from finops.api.page_view import PageViewDep
from finops.api.reader import SnapshotReader
from finops.api.routes.dashboards import links
from finops.governance.report import GovernanceReport, governance_report, month_to_date
from models.api import DAYS_ACCEPTED, Day, GovernanceResponse
from models.config import FinOpsConfig
from models.errors import WarehouseError

router = APIRouter(prefix="/api", tags=["governance"])
pages = APIRouter(prefix="/dashboards", tags=["dashboards"])


def report_for(reader: SnapshotReader, config: FinOpsConfig, principal: Principal,
               start: Day | None, end: Day | None) -> GovernanceReport:
    """The report over the window (default: the month of the last allocated day), scoped to
    what ``principal`` may see."""
    today = datetime.now(UTC).date()
    default = month_to_date(start, end, reader.data_through(), today)
    window = reader.window(default.start, default.end)
    cursor = reader.cursor()
    try:
        report = governance_report(cursor, config, window, today)
    except duckdb.Error as exc:
        raise WarehouseError(f"governance query on the published warehouse failed: {exc}") \
            from None
    finally:
        cursor.close()
    return report.for_team(principal.team) if principal.team is not None else report


@router.get("/governance", response_model=None)
def governance(
    principal: PrincipalDep,
    ctx: ContextDep,
    reader: ReaderDep,
    start: Annotated[Day | None, Query(description="First day (default: the first of the "
                                                   f"month of `end`; {DAYS_ACCEPTED}).")] = None,
    end: Annotated[Day | None, Query(description="Last day, inclusive (default: the last "
                                                 f"allocated day; {DAYS_ACCEPTED}).")] = None,
    part: Annotated[Literal["findings", "quota_ceilings", "coverage"], Query(
        description="With format=csv|parquet: which of the report's lists is the file.")
                    ] = "findings",
    format: FormatQuery = "json",
) -> GovernanceResponse | Response:
    """Namespaces without quotas, quota ceilings against budgets, teams without budgets,
    budgets without spend, what breaks label coverage, Backstage catalog drift, exemptions
    (``format=csv|parquet``: the ``part`` list as a file)."""
    report = report_for(reader, ctx.config, principal, start, end).as_dict()
    if format != "json":
        return as_file(rows_frame(report[part]), format,
                       filename("governance", part, principal.team), report["currency"])
    return GovernanceResponse.model_validate(report)


@pages.get("/governance", response_class=HTMLResponse)
def governance_page(principal: PrincipalDep, ctx: ContextDep, reader: ReaderDep,
                    pv: PageViewDep) -> HTMLResponse:
    """Quota ceilings against budgets, label coverage over time, the findings. A team token
    sees its own team's. The window control applies (default: month to date)."""
    view = pv.view
    asked = bool(view.preset or view.start or view.end)
    report = report_for(reader, ctx.config, principal, pv.window.start if asked else None,
                        pv.window.end if asked else None).as_dict()
    through = reader.data_through()
    heading = f"Governance · {principal.team}" if principal.team else "Governance"
    shown = report["window"]
    form = controls.form(view, "/dashboards/governance", date.fromisoformat(shown["start"]),
                         date.fromisoformat(shown["end"]), "team", window_only=True)
    span = f"start={shown['start']}&end={shown['end']}"
    return HTMLResponse(page(heading, governance_cards.body(report, through, span),
                             links(principal, ctx, reader, view), through,
                             assets.page_scripts(), controls=form))
