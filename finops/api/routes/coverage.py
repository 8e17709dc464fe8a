"""GET /api/coverage: % of spend allocated, label coverage and quota coverage."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from finops.api import queries
from finops.api.deps import PrincipalDep, ReaderDep, WindowDep
from finops.api.downloads import FormatQuery, as_file, filename
from models.api import CoverageResponse

router = APIRouter(prefix="/api", tags=["coverage"])


@router.get("/coverage", response_model=CoverageResponse)
def coverage(principal: PrincipalDep, reader: ReaderDep, window: WindowDep,
             format: FormatQuery = "json") -> CoverageResponse | Response:
    """FinOps allocation KPIs over the window. ``label_coverage`` and ``quota_coverage`` are
    the warehouse views of the same names (null until the warehouse has them).
    Organisation-wide: a team token gets 403. ``format=csv|parquet``: % allocated per day,
    with the amounts it divides."""
    principal.require_org_view("coverage")
    if format != "json":
        return as_file(queries.allocated_share_daily(reader, window), format,
                       filename("coverage", window.start, window.end),
                       queries.currency(reader, window))
    total = queries.total(reader, window, None)
    frame = queries.team_totals(reader, window, None)
    allocated = float(frame["effective_cost"].sum()) if frame.height else 0.0
    return CoverageResponse(
        window=window,
        currency=queries.currency(reader, window),
        total_effective_cost=round(total, 2),
        allocated_effective_cost=round(allocated, 2),
        unowned_effective_cost=round(total - allocated, 2),
        allocated_pct=round(100 * allocated / total, 2) if total else None,
        label_coverage=queries.view_rows(reader, "label_coverage", window),
        quota_coverage=queries.view_rows(reader, "quota_coverage", window),
    )
