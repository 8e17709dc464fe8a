"""GET /api/allocation: the OpenCost-style query (window, aggregate, step, filter)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from finops.api import queries
from finops.api.auth import Principal
from finops.api.deps import PrincipalDep, ReaderDep, WindowDep
from models.api import AllocationResponse, AllocationRow, Step
from models.errors import Forbidden, InputError

router = APIRouter(prefix="/api", tags=["allocation"])


def _aggregate(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in queries.DIMENSIONS]
    if unknown or not names:
        raise InputError(f"aggregate {text!r}: expected a comma list of "
                         f"{sorted(queries.DIMENSIONS)}")
    return list(dict.fromkeys(names))


def _check_scope(principal: Principal, filters: dict[str, list[str]]) -> None:
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
                                                "provider, cost_kind, service, ...")] = "team",
    step: Annotated[Step, Query(description="Period of each row.")] = "day",
    filter: Annotated[list[str] | None, Query(
        description='key:value filters, e.g. namespace:"a","b"+cluster:"eks-prod"; '
                    "team:__unowned__ selects unowned spend")] = None,
) -> AllocationResponse:
    """Effective, billed and list cost summed per step period and aggregate keys.

    Team tokens only ever get their own team's rows (their team is an implicit filter)."""
    names = _aggregate(aggregate)
    filters = queries.parse_filters(filter or [])
    _check_scope(principal, filters)
    frame = queries.allocation(reader, window, names, step, principal.team, filters)
    rows = [
        AllocationRow(period_start=r["period_start"], keys={n: r[n] for n in names},
                      billed_cost=round(r["billed_cost"] or 0.0, 2),
                      effective_cost=round(r["effective_cost"] or 0.0, 2),
                      list_cost=round(r["list_cost"] or 0.0, 2))
        for r in frame.iter_rows(named=True)
    ]
    total = float(frame["effective_cost"].sum()) if frame.height else 0.0
    return AllocationResponse(window=window, currency=queries.currency(reader, window),
                              aggregate=names, step=step, filters=filters, rows=rows,
                              total_effective_cost=round(total, 2))
