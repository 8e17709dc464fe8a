"""GET /api/unowned: spend no ownership rule claimed, by reason, and the biggest items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from finops.api import queries
from finops.api.deps import PrincipalDep, ReaderDep, WindowDep
from finops.api.downloads import FormatQuery, as_file, filename
from finops.api.routes.teams import named
from models.api import UnownedItem, UnownedResponse

router = APIRouter(prefix="/api", tags=["unowned"])


@router.get("/unowned", response_model=UnownedResponse)
def unowned(
    principal: PrincipalDep,
    reader: ReaderDep,
    window: WindowDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many top items.")] = 50,
    format: FormatQuery = "json",
) -> UnownedResponse | Response:
    """Unowned spend by machine-readable reason, and the largest (reason, place) items.
    Finance and platform only: a team token gets 403. ``format=csv|parquet``: the items as
    a file."""
    principal.require_org_view("unowned spend")
    if format != "json":
        return as_file(queries.unowned_items(reader, window, limit), format,
                       filename("unowned", window.start, window.end),
                       queries.currency(reader, window))
    by_reason = named(queries.unowned_by_reason(reader, window))
    items = [UnownedItem(**{**r, "effective_cost": round(r["effective_cost"] or 0.0, 2)})
             for r in queries.unowned_items(reader, window, limit).iter_rows(named=True)]
    total = sum(r.effective_cost for r in by_reason)
    return UnownedResponse(window=window, currency=queries.currency(reader, window),
                           total_effective_cost=round(total, 2),
                           by_reason=by_reason, top_items=items)
