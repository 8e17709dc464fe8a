"""``/api/backstage/...``: what Backstage's Cost Insights plugin asks its ``CostInsightsApi``.

One route per method of the plugin's API (``integrations/backstage/`` is the TypeScript client
that calls them). Scoping is the API's: a team token reads its own group only (403 on
another, and on ``__unallocated__``); project and catalog-entity costs are cut to the
caller's team in SQL. Shapes and the mapping: ``finops.api.backstage``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Query

from finops.api import queries
from finops.api.auth import Principal
from finops.api.backstage import (
    UNALLOCATED,
    Periods,
    cost,
    grouped,
    parse_intervals,
    product_entity,
    project_filters,
    with_keys,
)
from finops.api.backstage_alerts import group_alerts
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep
from finops.api.reader import SnapshotReader
from finops.governance import reads
from models.api import Window
from models.backstage import BillingDate, Cost, Entity, Group, Product, Project
from models.errors import NotFound

router = APIRouter(prefix="/api/backstage", tags=["backstage"])
Intervals = Annotated[str, Query(description="ISO 8601 repeating interval, e.g. "
                                 "R2/P30D/2026-11-01 (two periods ending on the date, "
                                 "exclusive).", max_length=64)]
GroupQuery = Annotated[str, Query(description="A Backstage group = a finops team; "
                                  f"`{UNALLOCATED}` is spend nobody owns.", max_length=200)]
PROJECT_KEYS = ["cluster", "namespace", "provider", "sub_account"]
PROJECT_DAYS = 90  # a group's projects: where it had spend in the last 90 days


def scope(principal: Principal, group: str) -> tuple[str | None, dict[str, list[str]]]:
    """The team scope and filters of a group (403 for what the caller may not see)."""
    if group == UNALLOCATED:
        principal.require_org_view("unallocated spend")
        return None, {"team": [queries.UNOWNED]}
    principal.require_team(group)
    return group, {}


def periods_of(reader: SnapshotReader, intervals: str) -> Periods:
    periods = parse_intervals(intervals)
    reader.window(periods.whole.start, periods.whole.end)  # the API's window limits
    return periods


def daily(reader: SnapshotReader, window: Window, team: str | None,
          filters: dict[str, list[str]], keys: list[str] | None = None) -> pl.DataFrame:
    frame = queries.allocation(reader, window, keys or [], "day", team, filters)
    return frame.rename({"period_start": "day"})


@router.get("/last-complete-billing-date", response_model=BillingDate)
def last_complete_billing_date(principal: PrincipalDep, reader: ReaderDep) -> BillingDate:
    """The last allocated day: every interval the plugin asks for ends on or before it."""
    through = reader.data_through()
    if through is None:
        raise NotFound("no allocated day yet: run `finops allocate`")
    cursor = reader.cursor()
    try:
        return BillingDate(date=through.isoformat(), currency=reads.currency(cursor))
    finally:
        cursor.close()


@router.get("/user-groups", response_model=list[Group])
def user_groups(principal: PrincipalDep, ctx: ContextDep, reader: ReaderDep,
                user: Annotated[str, Query(max_length=200)]) -> list[Group]:
    """The finops teams the catalog user belongs to (``finops ingest backstage``); platform
    and finance also get ``__unallocated__``."""
    aliases = ctx.config.team_aliases()
    names = [aliases.get(g.lower(), g) for g in queries.user_groups(reader, user)]
    if principal.team is not None:
        names = [n for n in names if n == principal.team]
    groups = [Group(id=n, name=n) for n in dict.fromkeys(names)]
    if principal.sees_unowned:
        groups.append(Group(id=UNALLOCATED, name="unallocated (no team owns it)"))
    return groups


@router.get("/group-projects", response_model=list[Project])
def group_projects(principal: PrincipalDep, reader: ReaderDep, group: GroupQuery,
                   ) -> list[Project]:
    """Namespaces and cloud sub-accounts where the group had spend in the last 90 days."""
    team, filters = scope(principal, group)
    through = reader.data_through() or date.today()
    window = Window(start=through - timedelta(days=PROJECT_DAYS - 1), end=through)
    rows = queries.allocation(reader, window, PROJECT_KEYS, "window", team, filters)
    if not rows.height:
        return []
    rows = with_keys(rows.with_columns(
        pl.lit(None, pl.String).alias("service")))
    names = rows.select("project", pl.coalesce("namespace", "sub_account").alias("name"))
    return [Project(id=p, name=n) for p, n in names.unique("project").sort("project").rows()]


@router.get("/group-daily-cost", response_model=Cost)
def group_daily_cost(principal: PrincipalDep, reader: ReaderDep, group: GroupQuery,
                     intervals: Intervals) -> Cost:
    """The group's daily cost over both periods, with change and trendline, broken down by
    project and product."""
    team, filters = scope(principal, group)
    periods = periods_of(reader, intervals)
    parts = with_keys(daily(reader, periods.whole, team, filters, [*PROJECT_KEYS, "service"]))
    breakdown = {key: grouped(parts.group_by("day", key).agg(pl.col("effective_cost").sum()),
                              key, periods) for key in ("project", "product")}
    return cost(group, daily(reader, periods.whole, team, filters), periods, breakdown)


@router.get("/project-daily-cost", response_model=Cost)
def project_daily_cost(principal: PrincipalDep, reader: ReaderDep,
                       project: Annotated[str, Query(max_length=300)],
                       intervals: Intervals) -> Cost:
    """A namespace's or sub-account's daily cost (a team token: its own share of it)."""
    periods = periods_of(reader, intervals)
    filters = project_filters(project)
    parts = with_keys(daily(reader, periods.whole, principal.team, filters,
                            [*PROJECT_KEYS, "service"]))
    breakdown = grouped(parts.group_by("day", "product").agg(pl.col("effective_cost").sum()),
                        "product", periods)
    return cost(project, daily(reader, periods.whole, principal.team, filters), periods,
                {"product": breakdown})


@router.get("/entity-daily-cost", response_model=Cost)
def entity_daily_cost(principal: PrincipalDep, reader: ReaderDep,
                      entity: Annotated[str, Query(max_length=300)],
                      intervals: Intervals) -> Cost:
    """A catalog entity's daily cost: the workload its kubernetes-id names (in its
    namespace, when it names one too), else its namespace."""
    found = queries.catalog_entity(reader, entity)
    if found is None or not (found["k8s_id"] or found["k8s_namespace"]):
        raise NotFound(f"no catalog entity {entity[:100]!r} naming a Kubernetes workload or "
                       "namespace (load the catalog with `finops ingest backstage`)")
    filters = {"workload": [found["k8s_id"]]} if found["k8s_id"] else {}
    if found["k8s_namespace"]:
        filters["namespace"] = [found["k8s_namespace"]]
    periods = periods_of(reader, intervals)
    return cost(found["ref"], daily(reader, periods.whole, principal.team, filters), periods)


@router.get("/products", response_model=list[Product])
def products(principal: PrincipalDep, reader: ReaderDep, intervals: Intervals) -> list[Product]:
    """The products (cloud services, and ``kubernetes``) the caller's spend touched: what
    to list under ``costInsights.products`` in Backstage's app-config."""
    periods = periods_of(reader, intervals)
    rows = with_keys(daily(reader, periods.whole, principal.team, {},
                           [*PROJECT_KEYS, "service"]))
    names = sorted(rows["product"].unique().to_list())
    return [Product(kind=n, name=n) for n in names]


@router.get("/product-insights", response_model=Entity)
def product_insights(principal: PrincipalDep, reader: ReaderDep,
                     product: Annotated[str, Query(max_length=200)], intervals: Intervals,
                     group: Annotated[str | None, Query(max_length=200)] = None,
                     project: Annotated[str | None, Query(max_length=300)] = None) -> Entity:
    """One product's cost in the two periods, broken down by project; for a group, and
    optionally one of its projects."""
    team, filters = scope(principal, group) if group else (principal.team, {})
    filters = {**filters, **(project_filters(project) if project else {})}
    periods = periods_of(reader, intervals)
    rows = with_keys(daily(reader, periods.whole, team, filters, [*PROJECT_KEYS, "service"]))
    return product_entity(product, rows.rename({"day": "period_start"}), periods)


@router.get("/alerts")
def alerts(principal: PrincipalDep, ctx: ContextDep, reader: ReaderDep,
           group: GroupQuery) -> list[dict[str, object]]:
    """Action items: crossed budget thresholds and governance findings of the group; for
    ``__unallocated__``, the month's unlabeled spend by project."""
    scope(principal, group)
    return [a.model_dump(exclude_none=True) for a in group_alerts(reader, ctx, principal, group)]
