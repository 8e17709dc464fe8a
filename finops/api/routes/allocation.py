"""GET /api/allocation: the OpenCost-style query (window, aggregate, step, filter)."""

from __future__ import annotations

from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from finops.api import queries
from finops.api.auth import Principal
from finops.api.deps import PrincipalDep, ReaderDep, WindowDep
from finops.api.downloads import FormatQuery, as_file, filename
from models.api import AllocationResponse, Step
from models.errors import Forbidden, InputError

router = APIRouter(prefix="/api", tags=["allocation"])


def _aggregate(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if not queries.is_dimension(n)]
    if unknown or not names:
        raise InputError(f"aggregate {text!r}: expected a comma list of "
                         f"{sorted(queries.DIMENSIONS)} or label:<key>")
    return list(dict.fromkeys(names))


def check_scope(principal: Principal, filters: dict[str, list[str]]) -> None:
    """A team token may filter on its own team only (asking for another is a 403)."""
    if principal.team is None:
        return
    others = [t for t in filters.get("team", []) if t != principal.team]
    if others:
        raise Forbidden(f"token {principal.name!r} may only see team {principal.team!r}, "
                        f"not {others}")


@router.get("/allocation", response_model=AllocationResponse)
def allocation(
    principal: PrincipalDep,
    reader: ReaderDep,
    window: WindowDep,
    aggregate: Annotated[str, Query(description="Comma list: team, namespace, cluster, "
                                                "provider, cost_kind, service, ..., "
                                                "label:<key> (a namespace label)")] = "team",
    step: Annotated[Step, Query(description="Period of each row.")] = "day",
    filter: Annotated[list[str] | None, Query(
        description='key:value filters, e.g. namespace:"a","b"+cluster:"eks-prod"; '
                    "team:__unowned__ selects unowned spend")] = None,
    format: FormatQuery = "json",
) -> Response:
    """Effective, billed and list cost summed per step period and aggregate keys.

    Team tokens only ever get their own team's rows (their team is an implicit filter).
    ``format=csv|parquet``: the rows as a file (one column per aggregate key)."""
    names = _aggregate(aggregate)
    filters = queries.parse_filters(filter or [])
    check_scope(principal, filters)
    frame = queries.allocation(reader, window, names, step, principal.team, filters)
    if format != "json":
        return as_file(frame, format, filename("allocation", *names, window.start, window.end),
                       queries.currency(reader, window))
    total = float(frame["effective_cost"].sum()) if frame.height else 0.0
    payload = {"window": window.model_dump(mode="json"),
               "currency": queries.currency(reader, window), "aggregate": names, "step": step,
               "filters": filters, "rows": rows(frame, names),
               "total_effective_cost": round(total, 2)}
    # The rows are built here as plain JSON, in the shape of AllocationResponse: a month by
    # namespace and day at L is 60,000 rows, which pydantic took 1.9 s to build and check.
    return JSONResponse(payload)


MONEY = ("billed_cost", "effective_cost", "list_cost")


def rows(frame: pl.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """``AllocationRow``s as dicts: column by column, money rounded to the cent."""
    starts = frame["period_start"].cast(pl.String).to_list()
    keys = (zip(*(frame[name].to_list() for name in names), strict=True) if names
            else [()] * frame.height)
    money = zip(*([round(v or 0.0, 2) for v in frame[c].to_list()] for c in MONEY),
                strict=True)
    return [{"period_start": start, "keys": dict(zip(names, key, strict=True)),
             **dict(zip(MONEY, cost, strict=True))}
            for start, key, cost in zip(starts, keys, money, strict=True)]
