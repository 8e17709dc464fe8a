"""Efficiency and savings: ``GET /api/efficiency`` (node pools: capacity, requested, used,
idle money per day), ``GET /api/savings`` (right-sizing per workload, ranked by the money a
month), and the page ``/dashboards/efficiency``.

Node pools are organisation-wide (a team token gets 403 on ``/api/efficiency`` and its page
shows its own workloads only); right-sizing is scoped like every read: a team token sees its
own workloads, in SQL (``finops.reports.savings``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from dashboards import controls, pages
from dashboards import efficiency as page_parts
from finops.api import assets, efficiency, queries
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep, WindowDep
from finops.api.downloads import FormatQuery, as_file, filename
from finops.api.page_view import PageViewDep
from finops.api.routes.dashboards import links, money_format
from finops.reports import savings

router = APIRouter(tags=["efficiency"])


@router.get("/api/savings", response_model=None)
def savings_route(principal: PrincipalDep, reader: ReaderDep, window: WindowDep,
                  format: FormatQuery = "json") -> dict[str, Any] | Response:
    """Right-sizing: per workload, mean requests vs p95 usage over the window, the suggested
    requests (p95 + 20 % headroom) and the money a month the change would save, largest
    first. Team tokens: their own workloads only. ``format=csv|parquet``: as a file."""
    frame = efficiency.rightsizing(reader, window, principal.team)
    if format != "json":
        return as_file(frame, format, filename("savings", principal.team, window.start,
                                               window.end), queries.currency(reader, window))
    return {"window": window.model_dump(mode="json"), **savings.summary(frame),
            "headroom": savings.HEADROOM, "hours_per_month": savings.HOURS_PER_MONTH,
            "workloads": frame.to_dicts()}


@router.get("/api/efficiency", response_model=None)
def efficiency_route(principal: PrincipalDep, reader: ReaderDep, window: WindowDep,
                     format: FormatQuery = "json") -> dict[str, Any] | Response:
    """Per day, cluster and node pool: nodes, capacity / allocatable / requested / used CPU
    core-hours and memory GiB-hours, GPU hours, and the idle money of the pool's nodes.
    Finance and platform only. ``format=csv|parquet``: as a file."""
    principal.require_org_view("node pool efficiency")
    frame = efficiency.node_pools(reader, window)
    if format != "json":
        return as_file(frame, format, filename("efficiency", window.start, window.end),
                       queries.currency(reader, window))
    return {"window": window.model_dump(mode="json"),
            "currency": queries.currency(reader, window),
            "node_pools": [{**r, "day": r["day"].isoformat()} for r in frame.to_dicts()]}


@router.get("/dashboards/efficiency", response_class=HTMLResponse)
def efficiency_page(principal: PrincipalDep, ctx: ContextDep, reader: ReaderDep,
                    pv: PageViewDep) -> HTMLResponse:
    """Idle and efficiency per node pool (organisation views), right-sizing (every role,
    scoped)."""
    window = pv.window
    span = f"start={window.start}&end={window.end}"  # the window is all these routes take
    through = reader.data_through()
    fmt = money_format(ctx, reader, window)
    suggestions = efficiency.rightsizing(reader, window, principal.team)
    total = savings.summary(suggestions)
    pools = efficiency.node_pools(reader, window) if principal.team is None else None
    idle = float(pools["idle_effective_cost"].sum()) if pools is not None and pools.height \
        else None
    tiles = [("could be saved a month", fmt(total["monthly_saving"])),
             ("workloads over-requesting", str(total["workload_count"])),
             *([("idle in window", fmt(idle))] if idle is not None else []),
             ("window", f"{window.start} – {window.end}")]
    body = [pages.kpis(tiles)]
    if pools is not None:
        body += page_parts.pool_cards(pools, through, fmt, f"/api/efficiency?{span}")
        if pools.height:
            body.append(page_parts.pool_table(efficiency.pool_totals(pools), fmt,
                                              f"/api/efficiency?{span}"))
    body.append(page_parts.rightsizing_table(suggestions, fmt,
                                             f"/api/savings?{span}")
                if suggestions.height
                else pages.empty_card("No workload requests more than its p95 usage needs "
                                      "in this window.", True))
    return HTMLResponse(pages.page(
        "Efficiency and savings", body, links(principal, ctx, reader, pv.view), through,
        assets.page_scripts(), fmt,
        controls=controls.form(pv.view, "/dashboards/efficiency", window.start, window.end,
                               "team", window_only=True)))
