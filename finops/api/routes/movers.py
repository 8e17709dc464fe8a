"""GET /api/movers: each team's spend in the last days of the window against the days
before them (week over week by default): the finance overview's "top movers" table."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dashboards.figures import movers as ranked
from finops.api import queries
from finops.api.deps import PrincipalDep, ReaderDep, WindowDep
from finops.api.downloads import FormatQuery, as_file, filename

router = APIRouter(prefix="/api", tags=["movers"])


@router.get("/movers", response_model=None)
def movers(principal: PrincipalDep, reader: ReaderDep, window: WindowDep,
           days: Annotated[int, Query(ge=1, le=92, description="Days compared.")] = 7,
           limit: Annotated[int, Query(ge=1, le=1000, description="How many teams.")] = 10,
           format: FormatQuery = "json") -> Response | dict[str, Any]:
    """Teams (unowned spend as ``__unowned__``) by the largest change, in money and in %.
    Organisation-wide: a team token gets 403."""
    principal.require_org_view("top movers")
    frame = ranked(queries.team_movers(reader, window, days), limit)
    currency = queries.currency(reader, window)
    if format != "json":
        return as_file(frame, format, filename("movers", window.start, window.end), currency)
    money = ("previous", "current", "delta")
    rows = [{**r, **{k: round(r[k], 2) for k in money},
             "delta_pct": None if r["delta_pct"] is None else round(r["delta_pct"], 2)}
            for r in frame.iter_rows(named=True)]
    return {"window": window.model_dump(mode="json"), "currency": currency, "days": days,
            "rows": rows}
