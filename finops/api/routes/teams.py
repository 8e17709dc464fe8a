"""Team views: the list, one team's breakdown, and how its cost was built (explain)."""

from __future__ import annotations

from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Path
from fastapi.responses import Response

from finops.api import queries
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep, WindowDep
from finops.api.downloads import FormatQuery, as_file, filename
from finops.api.reader import SnapshotReader
from finops.reports.explain import explain_team
from models.api import DayCost, NamedCost, TeamDetail, TeamsResponse, TeamSummary
from models.config import FinOpsConfig
from models.errors import NotFound

router = APIRouter(prefix="/api/teams", tags=["teams"])
TeamPath = Annotated[str, Path(description="Team name as declared in finops.yaml.")]
TOP = 10


def named(frame: pl.DataFrame) -> list[NamedCost]:
    return [NamedCost(name=r["name"], effective_cost=round(r["effective_cost"] or 0.0, 2))
            for r in frame.iter_rows(named=True)]


def require_known(reader: SnapshotReader, config: FinOpsConfig, team: str) -> None:
    """404 for a team that is neither declared nor present in the allocation."""
    if team in config.declared_teams:
        return
    if not queries.has_spend(reader, team):
        raise NotFound(f"no team {team!r}: not declared in finops.yaml and no allocated spend")


@router.get("", response_model=TeamsResponse)
def list_teams(principal: PrincipalDep, ctx: ContextDep, reader: ReaderDep,
               window: WindowDep, format: FormatQuery = "json") -> TeamsResponse | Response:
    """Teams with their spend in the window: declared teams (even at 0) and discovered ones
    (``format=csv|parquet``: as a file)."""
    totals = dict(queries.team_totals(reader, window, principal.team).iter_rows())
    names = set(totals) | ctx.config.declared_teams
    if principal.team is not None:
        names = {principal.team}
    teams = [
        TeamSummary(team=name, declared=name in ctx.config.declared_teams,
                    effective_cost=round(totals.get(name) or 0.0, 2),
                    slack_channel=getattr(ctx.config.team(name), "slack_channel", None))
        for name in names
    ]
    teams.sort(key=lambda t: (-t.effective_cost, t.team))
    if format != "json":
        frame = pl.DataFrame([t.model_dump() for t in teams], schema={
            "team": pl.String, "declared": pl.Boolean, "effective_cost": pl.Float64,
            "slack_channel": pl.String})
        return as_file(frame.with_columns(pl.col("team").replace_strict(
            totals, default=0.0, return_dtype=pl.Float64).alias("effective_cost")), format,
            filename("teams", window.start, window.end), queries.currency(reader, window))
    return TeamsResponse(window=window, currency=queries.currency(reader, window), teams=teams)


@router.get("/{team}", response_model=TeamDetail)
def team_detail(team: TeamPath, principal: PrincipalDep, ctx: ContextDep, reader: ReaderDep,
                window: WindowDep, format: FormatQuery = "json") -> TeamDetail | Response:
    """Daily series, split by cost kind, top namespaces and services, previous-window total
    (``format=csv|parquet``: the daily series as a file)."""
    principal.require_team(team)
    require_known(reader, ctx.config, team)
    daily = queries.team_daily(reader, window, team)
    if format != "json":
        return as_file(daily, format, filename("team", team, window.start, window.end),
                       queries.currency(reader, window))
    return TeamDetail(
        team=team, window=window, currency=queries.currency(reader, window),
        total_effective_cost=round(queries.total(reader, window, team), 2),
        previous_window_effective_cost=round(
            queries.total(reader, queries.previous(window), team), 2),
        daily=[DayCost(day=d, effective_cost=round(c, 2)) for d, c in daily.iter_rows()],
        by_cost_kind=named(queries.grouped(reader, window, team, "cost_kind")),
        top_namespaces=named(queries.grouped(reader, window, team, "namespace", limit=TOP)),
        top_services=named(queries.grouped(reader, window, team, "service", limit=TOP)),
    )


@router.get("/{team}/explain", response_model=None)
def explain(team: TeamPath, principal: PrincipalDep, ctx: ContextDep,
            reader: ReaderDep, window: WindowDep,
            format: FormatQuery = "json") -> dict[str, Any] | Response:
    """How the team's cost was built: direct compute by namespace, shared charges by origin,
    idle share, cloud resources, and the ownership rule that claimed each
    (``format=csv|parquet``: the rows it is built from, per day, kind, origin and rule)."""
    principal.require_team(team)
    require_known(reader, ctx.config, team)
    rows = queries.explain_rows(reader, window, team)
    if format != "json":
        return as_file(rows, format, filename("explain", team, window.start, window.end), None)
    result = explain_team(rows, team)
    return {"team": team, "window": window.model_dump(mode="json"), **result}
