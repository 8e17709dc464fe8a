"""Budgets and anomalies on the pages: each budget's state (over budget, forecast over, on
track: said in words and colour), a burn-down to the period's end with the forecast band, and
the recent anomalies with their root causes. Budget status dicts (``/api/budgets``) and
anomaly dicts (``finops.reports.anomalies_view``) in, HTML and figures out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from typing import Any

import polars as pl

from dashboards.figures import Figure, axis_title, figure, line
from dashboards.pages import downloads
from dashboards.tables import Column, card, table
from models.currency import MoneyFormat

STATES = {"over": "over budget", "forecast-over": "forecast over", "ok": "on track"}


def state(row: dict[str, Any]) -> str:
    """``over`` (spent more than the amount), ``forecast-over`` (the period-end forecast is
    above it) or ``ok``."""
    if float(row["actual"]) > float(row["amount"]):
        return "over"
    forecast = row.get("forecast") or {}
    if forecast.get("ok") and forecast.get("point") is not None \
            and float(forecast["point"]) > float(row["amount"]):
        return "forecast-over"
    return "ok"


def badge(kind: str) -> str:
    return f'<span class="state {kind}" data-state="{kind}">{escape(STATES[kind])}</span>'


def _forecast_text(row: dict[str, Any], fmt: MoneyFormat) -> str:
    forecast = row.get("forecast") or {}
    if not forecast.get("ok"):
        return f"n/a ({forecast.get('reason') or 'too little history'})"
    return (f"{fmt(forecast['point'])} ({fmt(forecast['low'])} – {fmt(forecast['high'])}, "
            f"{int(100 * float(forecast.get('level') or 0.8))} %)")


def status_table(rows: Sequence[dict[str, Any]], locale: str, data_url: str) -> str:
    """Every budget with its state, amounts in the budget's own currency; ``data_url`` the
    route of its rows (downloads)."""
    columns = [Column("budget"), Column("team"), Column("period"), Column("state"),
               Column("budget", True), Column("actual", True), Column("used", True),
               Column("forecast at period end (interval)", True)]
    cells = []
    for row in rows:
        fmt = MoneyFormat(row["currency"], locale)
        cells.append([escape(str(row["budget"])), escape(str(row.get("team") or "")),
                      escape(f"{row['period_label']} ({row['period_start']} – "
                             f"{row['period_end']})"), badge(state(row)),
                      escape(fmt(row["amount"])), escape(fmt(row["actual"])),
                      escape(f"{row['percent_used']:.1f} %"),
                      escape(_forecast_text(row, fmt))])
    return card(table("Budgets: state in the current period", columns, cells,
                      raw=frozenset(range(8)), table_id="budget-states")
                + downloads(data_url))


def burn_down(daily: pl.DataFrame, row: dict[str, Any], through: date | None,
              fmt: MoneyFormat) -> Figure:
    """What is left of the budget day by day (``day, effective_cost`` in its currency), the
    even pace to zero at the period's end, and the forecast left at the end with its band."""
    amount, start = float(row["amount"]), date.fromisoformat(row["period_start"])
    end = date.fromisoformat(row["period_end"])
    rows = daily.filter(pl.col("day").is_between(start, end)).sort("day")
    left = [amount - c for c in rows["effective_cost"].cum_sum().to_list()] if rows.height \
        else []
    hover = f"%{{x|%Y-%m-%d}}: %{{y:,.2f}} {fmt.currency or ''} left<extra></extra>"
    data = [{**line([start, end], [amount, 0.0], "even pace", color="#8c959f", dash="dot"),
             "hoverinfo": "skip"},
            {**line(rows["day"].to_list(), left, "left of the budget", "lines+markers",
                    color="#0969da"), "hovertemplate": hover}]
    forecast = row.get("forecast") or {}
    if forecast.get("ok") and left:
        data += band(rows["day"][-1], end, left[-1], amount, forecast, hover)
    return figure(data, f"Budget burn-down: {row['budget']} ({STATES[state(row)]})", through,
                  fmt, yaxis={**axis_title(f"left of the budget, {fmt.label}"),
                              "zeroline": True, "zerolinecolor": "#cf222e"},
                  xaxis={"range": [start.isoformat(), end.isoformat()]})


def band(last: date, end: date, now_left: float, amount: float,
         forecast: dict[str, Any], hover: str) -> list[dict[str, Any]]:
    """The forecast of what is left at ``end`` (point, and the interval as a filled band)."""
    high_left, low_left = amount - float(forecast["low"]), amount - float(forecast["high"])
    upper = {**line([last, end], [now_left, high_left], "forecast interval", color="#bf8700",
                    width=0), "showlegend": False, "hoverinfo": "skip"}
    lower = {**line([last, end], [now_left, low_left], "forecast interval", color="#bf8700",
                    width=0), "fill": "tonexty", "fillcolor": "rgba(191,135,0,0.25)",
             "hoverinfo": "skip"}
    point = {**line([last, end], [now_left, amount - float(forecast["point"])], "forecast",
                    color="#9a6700", dash="dash"), "hovertemplate": hover}
    return [upper, lower, point]


def anomalies_table(found: Sequence[dict[str, Any]], fmt: MoneyFormat, data_url: str,
                    caption: str = "Recent anomalies and their root causes") -> str:
    if not found:
        return card(f'<p class="empty">{escape(caption)}: none in the last days checked.</p>')
    columns = [Column("day"), Column("where"), Column("spend", True),
               Column("expected", True), Column("impact", True), Column("root causes")]
    cells = [[escape(a["day"]), escape(a.get("scope") or a.get("team") or ""),
              escape(fmt(a["actual"])),
              escape(fmt(a["expected"])), escape(fmt(a["impact"], signed=True)),
              causes(a["root_causes"], fmt)] for a in found]
    return card(table(caption, columns, cells, raw=frozenset(range(6)),
                      table_id="anomalies") + downloads(data_url))


def causes(found: Sequence[dict[str, Any]], fmt: MoneyFormat) -> str:
    items = "".join(f"<li>{escape(c['name'])}"
                    f"{' on ' + escape(c['cluster']) if c.get('cluster') else ''}: "
                    f"{escape(fmt(c['contribution'], signed=True))}</li>" for c in found)
    return f'<ul class="evidence">{items}</ul>' if items else "—"
