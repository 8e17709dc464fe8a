"""Prometheus scrape target. Unauthenticated like /healthz: it carries counts and the
snapshot's age, never a dollar or a team name."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from finops.api.deps import ContextDep

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(ctx: ContextDep) -> PlainTextResponse:
    """Request counts and time per route, SQL outcomes, snapshot age, generation and swaps
    (text format 0.0.4)."""
    return PlainTextResponse(ctx.metrics.render(ctx.snapshots),
                             media_type="text/plain; version=0.0.4; charset=utf-8")
