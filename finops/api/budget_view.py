"""Budgets, anomalies and ``explain`` for the finance and team pages: reads on the request's
snapshot (budget statuses, daily spend, recent anomalies, the team's explain rows), cards
from ``dashboards.budgets`` and ``dashboards.explain``."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

import polars as pl

from dashboards import budgets as budget_parts
from dashboards import explain as explain_parts
from dashboards.pages import figure_div
from finops.api import queries
from finops.api.auth import Principal
from finops.api.reader import SnapshotReader
from finops.api.routes.budgets import budget_rows
from finops.reports import anomalies_view
from finops.reports.explain import explain_team
from models.api import Window
from models.config import FinOpsConfig
from models.currency import MoneyFormat


def statuses(config: FinOpsConfig, reader: SnapshotReader, principal: Principal,
             as_of: date) -> list[dict[str, Any]]:
    """Budget statuses ``principal`` may see; none when finops.yaml declares no budgets."""
    return budget_rows(reader, config, principal, as_of) if config.budgets else []


def anomalies(reader: SnapshotReader, through: date,
              team: str | None) -> list[dict[str, Any]]:
    cursor = reader.cursor()
    try:
        return anomalies_view.recent(cursor, through, team=team)
    finally:
        cursor.close()


def as_of(window: Window, through: date | None) -> date:
    """The day budgets and anomalies are shown as of: the window's end, or the last day with
    data when the window reaches past it (a window ending mid-period shows its forecast)."""
    return min(window.end, through) if through else window.end


def finance_cards(config: FinOpsConfig, reader: SnapshotReader, principal: Principal,
                  window: Window, through: date | None, fmt: MoneyFormat) -> list[str]:
    """The budget states of every budget and the organisation's recent anomalies."""
    day = as_of(window, through)
    rows = statuses(config, reader, principal, day)
    return [*([budget_parts.status_table(rows, fmt.locale, f"/api/budgets?as_of={day}")]
              if rows else []),
            budget_parts.anomalies_table(anomalies(reader, day, None), fmt,
                                         "/api/alerts/anomalies")]


def in_budget_currency(daily: pl.DataFrame, row: dict[str, Any]) -> pl.DataFrame:
    """Daily spend at the budget's rate (``row["fx"]``), so the burn line and the budget
    are in one currency; unchanged when the budget is in the reporting currency."""
    rate = (row.get("fx") or {}).get("rate")
    return daily if rate in (None, 1.0) else daily.with_columns(pl.col("effective_cost") * rate)


def burn_downs(reader: SnapshotReader, rows: list[dict[str, Any]], team: str,
               through: date | None, locale: str) -> list[str]:
    cards = []
    for i, row in enumerate(rows):
        window = Window(start=date.fromisoformat(row["period_start"]),
                        end=date.fromisoformat(row["period_end"]))
        daily = in_budget_currency(queries.team_daily(reader, window, team), row)
        fig = budget_parts.burn_down(daily, row, through, MoneyFormat(row["currency"], locale))
        cards.append(figure_div(fig, f"burn-{i}", data_url=f"/api/teams/{quote(team)}?"
                                f"start={window.start}&end={window.end}"))
    return cards


def team_cards(config: FinOpsConfig, reader: SnapshotReader, principal: Principal, team: str,
               window: Window, through: date | None, fmt: MoneyFormat) -> list[str]:
    """The team's budget states and burn-downs, its recent anomalies, and explain."""
    day = as_of(window, through)
    rows = [r for r in statuses(config, reader, principal, day) if r.get("team") == team]
    report = explain_team(queries.explain_rows(reader, window, team), team)
    team_path = quote(team)
    return [*([budget_parts.status_table(rows, fmt.locale, f"/api/budgets?as_of={day}")]
              if rows else []),
            *burn_downs(reader, rows, team, through, fmt.locale),
            budget_parts.anomalies_table(anomalies(reader, day, team), fmt,
                                         f"/api/alerts/anomalies?team={team_path}"),
            *explain_parts.cards(report, fmt, f"/api/teams/{team_path}/explain?"
                                 f"start={window.start}&end={window.end}")]
