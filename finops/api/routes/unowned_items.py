"""GET /api/unowned/items: every unowned item one can act on, sorted, filtered and paged.

Each item carries its full ids, money in the window, first day seen, tags, a suggested owner
with its evidence and the fix for its reason (``finops.api.unowned_items``). Finance and
platform see every item; a team token sees the items inside its own namespaces and accounts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from finops.api import queries, unowned_items
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep, WindowDep
from finops.api.downloads import FormatQuery, as_file, filename, rows_frame

router = APIRouter(prefix="/api", tags=["unowned"])
SortName = Literal["cost", "first_seen", "reason", "namespace", "account", "resource",
                   "suggested"]


@router.get("/unowned/items", response_model=None)
def unowned_item_list(
    principal: PrincipalDep, ctx: ContextDep, reader: ReaderDep, window: WindowDep,
    sort: Annotated[SortName, Query(description="Sort key.")] = "cost",
    order: Annotated[Literal["asc", "desc"], Query(description="Sort order.")] = "desc",
    reason: Annotated[str | None, Query(max_length=64, description="Only this reason.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in any id, name, tag "
                                                               "or suggestion.")] = None,
    page: Annotated[int, Query(ge=1, description="Page, from 1.")] = 1,
    per_page: Annotated[int, Query(ge=1, le=unowned_items.MAX_PER_PAGE)] = 50,
    format: FormatQuery = "json",
) -> dict[str, Any] | Response:
    """One page of the unowned items the caller may see, and the totals of the selection
    (``format=csv|parquet``: every item of the selection, sorted, as a file)."""
    rows = unowned_items.actionable(reader, ctx.config, window, principal.team)
    if format != "json":
        every = unowned_items.matching(rows, sort=sort, descending=order == "desc",
                                       reason=reason, text=q)
        return as_file(rows_frame(every), format,
                       filename("unowned-items", principal.team, window.start, window.end),
                       queries.currency(reader, window))
    listing = unowned_items.select(rows, sort=sort, descending=order == "desc", reason=reason,
                                   text=q, page=page, per_page=per_page)
    return {"window": window.model_dump(mode="json"),
            "currency": queries.currency(reader, window),
            "scope": principal.team or "organisation",
            "total_items": len(rows),
            "total_effective_cost": round(sum(r["effective_cost"] for r in rows), 2),
            "matching_items": listing.matching,
            "matching_effective_cost": listing.matching_cost,
            "page": listing.page, "pages": listing.pages, "per_page": listing.per_page,
            "items": listing.rows}

