"""HTML dashboards: finance overview, a team page, the unowned-spend page.

Auth is the API's: a bearer header, or for people the session cookie from ``/signin`` (a
browser that has none is sent there) or trusted SSO headers; scoping is the same as
everywhere: a team token sees its own team page only. Data comes from the named
queries, figures from ``dashboards.figures``, HTML from ``dashboards.pages``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse

from dashboards import figures, pages
from finops.api import assets, queries
from finops.api.auth import Principal
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep, WindowDep
from finops.api.reader import SnapshotReader
from finops.api.routes.budgets import budget_rows
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
        return RedirectResponse(pages.link(f"/dashboards/teams/{principal.team}"))
    return RedirectResponse(pages.link("/dashboards/finance"))


def links(principal: Principal, ctx: ContextDep, reader: SnapshotReader) -> list[tuple[str, str]]:
    """The page header's links: what ``principal`` may open."""
    governance = ("governance", pages.link("/dashboards/governance"))
    if principal.team is not None:
        return [*pages.team_links([principal.team]), governance]
    found = [("overview", pages.link("/dashboards/finance")),
             ("unowned", pages.link("/dashboards/unowned")), governance]
    teams = sorted(ctx.config.declared_teams) or sorted(
        queries.team_totals(reader, reader.window(None, None), None)["team"].to_list())
    return found + pages.team_links(teams)


def _budgets(ctx: ContextDep, reader: SnapshotReader, principal: Principal,
             as_of: date) -> list[dict[str, Any]]:
    """Budget statuses; none when finops.yaml declares no budgets."""
    if not ctx.config.budgets:
        return []
    return budget_rows(reader, ctx.config, principal, as_of)


def money_format(ctx: ContextDep, reader: SnapshotReader, window: Window) -> MoneyFormat:
    """The page's money: the window's currency (from the data) in the configured locale."""
    return MoneyFormat(queries.currency(reader, window), ctx.settings.locale)


def budget_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Budget status dicts -> the frame ``figures.budget_vs_actual`` draws."""
    def forecast(row: dict[str, Any], key: str) -> float | None:
        value = (row.get("forecast") or {}).get(key)
        return float(value) if value is not None and (row.get("forecast") or {}).get("ok") \
            else None

    return pl.DataFrame(
        {
            "budget": [str(r["budget"]) for r in rows],
            "currency": [str(r["currency"]) for r in rows],
            "amount": [float(r["amount"]) for r in rows],
            "actual": [float(r["actual"]) for r in rows],
            "forecast": [forecast(r, "point") for r in rows],
            "forecast_low": [forecast(r, "low") for r in rows],
            "forecast_high": [forecast(r, "high") for r in rows],
        },
        schema={"budget": pl.String, "currency": pl.String, "amount": pl.Float64,
                "actual": pl.Float64, "forecast": pl.Float64, "forecast_low": pl.Float64,
                "forecast_high": pl.Float64},
    )


def namespace_coverage(reader: SnapshotReader, day: date) -> str:
    """"12 / 40" namespaces with a team on ``day`` (from ``label_coverage``), or n/a."""
    rows = queries.view_rows(reader, "label_coverage", Window(start=day, end=day)) or []
    if not rows or "namespaces" not in rows[0]:
        return "n/a"
    return f"{rows[0]['namespaces_with_team']} / {rows[0]['namespaces']}"


@router.get("/finance", response_class=HTMLResponse)
def finance(principal: PrincipalDep, ctx: ContextDep, reader: ReaderDep,
            window: WindowDep) -> HTMLResponse:
    """Spend by team over time, budget vs actual vs forecast, % allocated, unowned by reason,
    top movers week over week. Finance and platform tokens."""
    principal.require_org_view("the finance overview")
    through = reader.data_through()
    total = queries.total(reader, window, None)
    share = queries.allocated_share_daily(reader, window)
    allocated = float(queries.team_totals(reader, window, None)["effective_cost"].sum())
    pct = 100 * allocated / total if total else None
    budgets = _budgets(ctx, reader, principal, through or window.end)
    fmt = money_format(ctx, reader, window)
    body = [
        pages.kpis([("spend in window", fmt(total)), ("% allocated", pages.percent(pct)),
                    ("unowned", fmt(total - allocated)),
                    ("namespaces with a team", namespace_coverage(reader, window.end)),
                    ("window", f"{window.start} – {window.end}")]),
        pages.figure_div(figures.spend_by_team(
            queries.spend_by_team_daily(reader, window, None), through, fmt), "spend-by-team",
            True),
        pages.figure_div(figures.budget_vs_actual(budget_frame(budgets), through, fmt.locale),
                         "budgets", True) if budgets
        else pages.empty_card("No budgets declared.", True),
        pages.figure_div(figures.allocated_gauge(pct, through), "allocated-kpi"),
        pages.figure_div(figures.allocated_trend(share, through), "allocated-trend"),
        pages.figure_div(figures.unowned_by_reason(queries.unowned_by_reason(reader, window),
                                                   through, fmt), "unowned-by-reason"),
        pages.figure_div(figures.top_movers(queries.team_movers(reader, window), through, fmt),
                         "top-movers"),
    ]
    return HTMLResponse(pages.page("Finance overview", body, links(principal, ctx, reader),
                                   through, assets.page_scripts(), fmt))


def _burn_cards(ctx: ContextDep, reader: SnapshotReader, principal: Principal, team: str,
                through: date | None) -> list[str]:
    cards: list[str] = []
    for row in _budgets(ctx, reader, principal, through or date.today()):
        if row.get("team") != team:
            continue
        start, end = date.fromisoformat(row["period_start"]), date.fromisoformat(row["period_end"])
        daily = queries.team_daily(reader, Window(start=start, end=end), team)
        point = (row.get("forecast") or {}).get("point")
        fig = figures.budget_burn(_in_budget_currency(daily, row), float(row["amount"]),
                                  start, end,
                                  point if (row.get("forecast") or {}).get("ok") else None,
                                  str(row["budget"]), through,
                                  MoneyFormat(row["currency"], ctx.settings.locale))
        cards.append(pages.figure_div(fig, f"burn-{len(cards)}"))
    return cards


def _in_budget_currency(daily: pl.DataFrame, row: dict[str, Any]) -> pl.DataFrame:
    """Daily spend at the budget's rate (``row["fx"]``), so the burn line and the budget
    are in one currency; unchanged when the budget is in the reporting currency."""
    rate = (row.get("fx") or {}).get("rate")
    return daily if rate in (None, 1.0) else daily.with_columns(pl.col("effective_cost") * rate)


@router.get("/teams/{team}", response_class=HTMLResponse)
@router.get("/team/{team}", include_in_schema=False)  # the path Slack alerts link to
def team_page(team: Annotated[str, PathParam()], principal: PrincipalDep,
              ctx: ContextDep, reader: ReaderDep, window: WindowDep) -> HTMLResponse:
    """One team: daily spend by cost kind, namespaces, services, budget burn."""
    principal.require_team(team)
    through = reader.data_through()
    require_known(reader, ctx.config, team)
    total = queries.total(reader, window, team)
    before = queries.total(reader, queries.previous(window), team)
    change = f"{100 * (total - before) / before:+.1f} %" if before else "n/a"
    fmt = money_format(ctx, reader, window)
    body = [
        pages.kpis([("spend in window", fmt(total)),
                    ("previous window", fmt(before)), ("change", change),
                    ("window", f"{window.start} – {window.end}")]),
        pages.figure_div(figures.cost_kind_daily(
            queries.grouped(reader, window, team, "cost_kind", by_day=True), through,
            fmt=fmt), "cost-kind", True),
        pages.figure_div(figures.by_name_bar(
            queries.grouped(reader, window, team, "namespace", limit=15),
            "Top namespaces", through, unnamed="(outside Kubernetes)", fmt=fmt), "namespaces"),
        pages.figure_div(figures.by_name_bar(
            queries.grouped(reader, window, team, "service", limit=15),
            "Top services", through, unnamed="(Kubernetes)", fmt=fmt), "services"),
        *_burn_cards(ctx, reader, principal, team, through),
    ]
    return HTMLResponse(pages.page(f"Team {team}", body, links(principal, ctx, reader),
                                   through, assets.page_scripts(), fmt))


@router.get("/unowned", response_class=HTMLResponse)
def unowned_page(principal: PrincipalDep, ctx: ContextDep, reader: ReaderDep,
                 window: WindowDep) -> HTMLResponse:
    """Unowned spend: by reason, per day by reason, the largest items. Platform and finance."""
    principal.require_org_view("unowned spend")
    through = reader.data_through()
    by_reason = queries.unowned_by_reason(reader, window)
    unowned = float(by_reason["effective_cost"].sum()) if by_reason.height else 0.0
    total = queries.total(reader, window, None)
    daily = queries.unowned_daily_by_reason(reader, window)
    items = queries.unowned_items(reader, window, 25)
    fmt = money_format(ctx, reader, window)
    body = [
        pages.kpis([("unowned in window", fmt(unowned)),
                    ("share of spend", pages.percent(100 * unowned / total if total else None)),
                    ("reasons", str(by_reason.height)),
                    ("window", f"{window.start} – {window.end}")]),
        pages.figure_div(figures.unowned_by_reason(by_reason, through, fmt),
                         "unowned-by-reason"),
        pages.figure_div(figures.cost_kind_daily(daily, through, "Unowned spend per day by "
                                                 "reason", fmt), "unowned-daily"),
        pages.figure_div(figures.items_table(items, through, fmt=fmt), "unowned-items", True),
    ]
    return HTMLResponse(pages.page("Unowned spend", body, links(principal, ctx, reader),
                                   through, assets.page_scripts(), fmt))
