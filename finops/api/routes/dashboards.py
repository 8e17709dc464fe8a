"""HTML dashboards: finance overview, a team page, the unowned-spend page.

Auth is the API's: a bearer header, or for people the session cookie from ``/signin`` (a
browser that has none is sent there) or trusted SSO headers; scoping is the same as
everywhere: a team token sees its own team page only. Data comes from the named
queries, figures from ``dashboards.figures``, HTML from ``dashboards.pages``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

import polars as pl
from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse

from dashboards import controls, figures, pages
from dashboards.controls import View
from finops.api import assets, budget_view, queries, unowned_view
from finops.api.auth import Principal
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep
from finops.api.page_view import PageView, PageViewDep
from finops.api.reader import SnapshotReader
from finops.api.routes.budgets import budget_frame, budget_rows
from finops.api.routes.teams import require_known
from models.api import Window
from models.currency import MoneyFormat
from models.errors import NotFound

router = APIRouter(prefix="/dashboards", tags=["dashboards"])


@router.get("/static/plotly.min.js", include_in_schema=False)
def plotly_js_unhashed() -> RedirectResponse:
    """The old unhashed URL: to the current plotly.js."""
    return RedirectResponse(assets.plotly_js().path, status_code=308)


@router.get("/static/{filename}", include_in_schema=False)
def static_file(filename: str, request: Request) -> Response:
    """A static file by its content-hashed name, gzip-compressed when the client accepts it,
    cached by browsers for a year (a new file is a new name)."""
    asset = assets.by_filename(filename)
    if asset is None:
        raise NotFound(f"no static file {filename[:100]!r}")
    headers = {"Cache-Control": assets.IMMUTABLE, "ETag": f'"{asset.digest}"',
               "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        return Response(asset.gzipped, media_type=asset.media_type,
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("", response_class=RedirectResponse)
@router.get("/", include_in_schema=False)
def home(principal: PrincipalDep) -> RedirectResponse:
    """Team tokens go to their team page; finance and platform to the overview."""
    if principal.team is not None:
        return RedirectResponse(team_path(principal.team))
    return RedirectResponse(pages.link("/dashboards/finance"))


def links(principal: Principal, ctx: ContextDep, reader: SnapshotReader,
          view: View | None = None) -> list[tuple[str, str]]:
    """The page header's links: what ``principal`` may open, each keeping the view's window,
    granularity, group-by and metric (filters belong to the page they were set on)."""
    kept = replace(view, filters=()) if view is not None else View()

    def to(path: str) -> str:
        return kept.href(path)

    governance = ("governance", to("/dashboards/governance"))
    unowned = ("unowned", to("/dashboards/unowned"))
    efficiency = ("efficiency", to("/dashboards/efficiency"))
    if principal.team is not None:
        return [(principal.team, to(team_path(principal.team))), unowned, efficiency, governance]
    found = [("overview", to("/dashboards/finance")), unowned, efficiency, governance]
    teams = sorted(ctx.config.declared_teams) or sorted(
        queries.team_totals(reader, reader.window(None, None), None)["team"].to_list())
    return found + [(team, to(team_path(team))) for team in teams]


def team_path(team: str) -> str:
    return f"/dashboards/teams/{quote(team, safe='')}"


def controls_form(pv: PageView, reader: SnapshotReader, path: str, default_group: str) -> str:
    return controls.form(pv.view, path, pv.window.start, pv.window.end, default_group,
                         queries.label_keys(reader))


def drill_links(pv: PageView, group: str, values: list[Any], path: str) -> dict[Any, str]:
    """Where a click on each value of ``group`` goes: a team to its page, unowned spend to
    the unowned page, anything else to this page filtered to it, one level down."""
    found: dict[Any, str] = {}
    for value in values:
        if value is None:
            continue
        if group == "team" and value == queries.UNOWNED:
            found[value] = replace(pv.view, filters=(), group="").href("/dashboards/unowned")
        elif group == "team" and not path.startswith("/dashboards/teams/"):
            found[value] = replace(pv.view, filters=pv.view.filters, group="namespace").href(
                team_path(str(value)))
        else:
            found[value] = pv.view.drilled(group, str(value)).href(path)
    return found


STEP_WORDS = {"day": "per day", "week": "per week", "month": "per month"}
# What a row without the dimension is: cloud spend has no namespace, Kubernetes no service.
UNNAMED = {"namespace": "(outside Kubernetes)", "workload": "(no workload)",
           "cluster": "(outside Kubernetes)", "service": "(Kubernetes)",
           "resource": "(no resource id)"}


def explore_card(pv: PageView, reader: SnapshotReader, fmt: MoneyFormat, team: str | None,
                 path: str, default_group: str) -> tuple[str, float]:
    """The page's main chart: spend per period stacked by the group-by, filtered, in the
    chosen metric; a click drills down. Also the total it shows."""
    group, view = pv.group(default_group), pv.view
    frame = queries.allocation(reader, pv.window, [group], view.step, team, pv.filters)
    values = frame[group].unique().to_list() if frame.height else []
    name = controls.GROUPS.get(group, group)
    fig = figures.explore(
        frame, group, view.column, f"Spend by {name} {STEP_WORDS[view.step]}",
        reader.data_through(), fmt, figures.time_axis(pv.window.start, pv.window.end, view.step),
        drill_links(pv, group, values, path),
        UNNAMED.get(group, "(no label)" if group.startswith(queries.LABEL) else "(none)"))
    scope = (controls.term("team", team),) if team else ()
    total = float(frame[view.column].sum()) if frame.height else 0.0
    return pages.figure_div(fig, "explore", True, data_url=pv.api_url(
        "/api/allocation", group, view.step, *scope)), total


def shown_total(reader: SnapshotReader, pv: PageView, team: str | None,
                window: Window) -> float:
    """What the explore chart would total over ``window`` (its filters and metric)."""
    frame = queries.allocation(reader, window, [], "window", team, pv.filters)
    return float(frame[pv.view.column].sum()) if frame.height else 0.0


def by_name(reader: SnapshotReader, pv: PageView, team: str | None, group: str,
            step: str = "window") -> pl.DataFrame:
    """The view's spend by one dimension as ``[day,] name, effective_cost`` (the chosen
    metric under the name the figures read)."""
    frame = queries.allocation(reader, pv.window, [group], step, team, pv.filters)
    columns = [pl.col(group).alias("name"), pl.col(pv.view.column).alias("effective_cost")]
    if step != "window":
        columns.insert(0, pl.col("period_start").alias("day"))
    return frame.select(columns).sort("effective_cost", descending=True)


def _budgets(ctx: ContextDep, reader: SnapshotReader, principal: Principal,
             as_of: date) -> list[dict[str, Any]]:
    """Budget statuses; none when finops.yaml declares no budgets."""
    if not ctx.config.budgets:
        return []
    return budget_rows(reader, ctx.config, principal, as_of)


def money_format(ctx: ContextDep, reader: SnapshotReader, window: Window) -> MoneyFormat:
    """The page's money: the window's currency (from the data) in the configured locale."""
    return MoneyFormat(queries.currency(reader, window), ctx.settings.locale)


def amount(fmt: MoneyFormat, value: float) -> str:
    """A KPI's money; "no data" when the window has none (no currency to write it in)."""
    return fmt(value) if fmt.currency else "no data"


def namespace_coverage(reader: SnapshotReader, day: date) -> str:
    """"12 / 40" namespaces with a team on ``day`` (from ``label_coverage``), or n/a."""
    rows = queries.view_rows(reader, "label_coverage", Window(start=day, end=day)) or []
    if not rows or "namespaces" not in rows[0]:
        return "n/a"
    return f"{rows[0]['namespaces_with_team']} / {rows[0]['namespaces']}"


@router.get("/finance", response_class=HTMLResponse)
def finance(principal: PrincipalDep, ctx: ContextDep, reader: ReaderDep,
            pv: PageViewDep) -> HTMLResponse:
    """Spend over time by any dimension (controls, drill-down), budget vs actual vs
    forecast, % allocated, unowned by reason, top movers week over week. Finance and
    platform tokens."""
    principal.require_org_view("the finance overview")
    through, window, path = reader.data_through(), pv.window, "/dashboards/finance"
    total = queries.total(reader, window, None)
    share = queries.allocated_share_daily(reader, window)
    allocated = float(queries.team_totals(reader, window, None)["effective_cost"].sum())
    pct = 100 * allocated / total if total else None
    as_of = budget_view.as_of(window, through)
    budgets = _budgets(ctx, reader, principal, as_of)
    fmt = money_format(ctx, reader, window)
    explore, shown = explore_card(pv, reader, fmt, None, path, "team")
    body = [
        pages.kpis([(f"spend shown ({pv.view.metric_label})", amount(fmt, shown)),
                    ("% allocated", pages.percent(pct)), ("unowned", fmt(total - allocated)),
                    ("namespaces with a team", namespace_coverage(reader, window.end)),
                    ("window", f"{window.start} – {window.end}")]),
        explore,
        pages.figure_div(figures.budget_vs_actual(budget_frame(budgets), through, fmt.locale),
                         "budgets", True, data_url=f"/api/budgets?as_of={as_of}") if budgets
        else pages.empty_card("No budgets declared.", True),
        pages.figure_div(figures.allocated_gauge(pct, through), "allocated-kpi",
                         data_url=pv.api_url("/api/coverage", "", "")),
        pages.figure_div(figures.allocated_trend(
            share, through, figures.time_axis(window.start, window.end)), "allocated-trend",
                         data_url=pv.api_url("/api/coverage", "", "")),
        pages.figure_div(figures.unowned_by_reason(queries.unowned_by_reason(reader, window),
                                                   through, fmt), "unowned-by-reason",
                         data_url=pv.api_url("/api/allocation", "reason", "window",
                                             controls.term("team", queries.UNOWNED))),
        pages.figure_div(figures.top_movers(queries.team_movers(reader, window), through, fmt),
                         "top-movers", data_url=pv.api_url("/api/movers", "", "")),
        *budget_view.finance_cards(ctx.config, reader, principal, window, through, fmt),
    ]
    return HTMLResponse(pages.page(
        "Finance overview", body, links(principal, ctx, reader, pv.view), through,
        assets.page_scripts(), fmt, controls=controls_form(pv, reader, path, "team"),
        crumbs=controls.crumbs(controls.trail(pv.view, ("Organisation", path), path))))


@router.get("/teams/{team}", response_class=HTMLResponse)
@router.get("/team/{team}", include_in_schema=False)  # the path Slack alerts link to
def team_page(team: Annotated[str, PathParam()], principal: PrincipalDep,
              ctx: ContextDep, reader: ReaderDep, pv: PageViewDep) -> HTMLResponse:
    """One team: spend over time by any dimension (namespace -> workload drill-down), cost
    kinds, namespaces, services, budget states and burn-down with the forecast band, recent
    anomalies with root causes, and explain."""
    principal.require_team(team)
    through, window, path = reader.data_through(), pv.window, team_path(team)
    require_known(reader, ctx.config, team)
    fmt = money_format(ctx, reader, window)
    explore, shown = explore_card(pv, reader, fmt, team, path, "namespace")
    before = shown_total(reader, pv, team, queries.previous(window))
    change = pages.percent(100 * (shown - before) / before, signed=True) if before else "n/a"
    scope = controls.term("team", team)
    namespaces = by_name(reader, pv, team, "namespace")
    body = [
        pages.kpis([(f"spend shown ({pv.view.metric_label})", amount(fmt, shown)),
                    ("previous window", fmt(before)), ("change", change),
                    ("window", f"{window.start} – {window.end}")]),
        explore,
        pages.figure_div(figures.cost_kind_daily(
            by_name(reader, pv, team, "cost_kind", "day"), through, fmt=fmt,
            axis=figures.time_axis(window.start, window.end)), "cost-kind", True,
            data_url=pv.api_url("/api/allocation", "cost_kind", "day", scope)),
        pages.figure_div(figures.by_name_bar(
            namespaces.head(15), "Top namespaces", through, unnamed="(outside Kubernetes)",
            fmt=fmt, links=drill_links(pv, "namespace", namespaces["name"].to_list(), path)),
            "namespaces", data_url=pv.api_url("/api/allocation", "namespace", "window", scope)),
        pages.figure_div(figures.by_name_bar(
            by_name(reader, pv, team, "service").head(15), "Top services", through,
            unnamed="(Kubernetes)", fmt=fmt), "services",
            data_url=pv.api_url("/api/allocation", "service", "window", scope)),
        *budget_view.team_cards(ctx.config, reader, principal, team, window, through, fmt),
    ]
    root = [("Organisation", replace(pv.view, filters=(), group="team").href(
        "/dashboards/finance"))] if principal.team is None else []
    trail = root + controls.trail(pv.view, (f"team {team}", path), path)
    return HTMLResponse(pages.page(
        f"Team {team}", body, links(principal, ctx, reader, pv.view), through,
        assets.page_scripts(), fmt, controls=controls_form(pv, reader, path, "namespace"),
        crumbs=controls.crumbs(trail)))


@router.get("/unowned", response_class=HTMLResponse)
def unowned_page(request: Request, principal: PrincipalDep, ctx: ContextDep,
                 reader: ReaderDep, pv: PageViewDep) -> HTMLResponse:
    """Unowned spend: by reason, per day by reason, every item with its suggested owner and
    fix (sorted, filtered, paged). Team leads: the items inside their namespaces and accounts."""
    window = pv.window
    through = reader.data_through()
    fmt = money_format(ctx, reader, window)
    body = unowned_view.cards(principal, ctx.config, reader, window,
                              dict(request.query_params), fmt, through)
    return HTMLResponse(pages.page(
        "Unowned spend", body, links(principal, ctx, reader, pv.view), through,
        assets.page_scripts(), fmt,
        controls=controls.form(pv.view, "/dashboards/unowned", window.start, window.end,
                               "reason", window_only=True)))
