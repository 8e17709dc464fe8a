"""Plotly figure builders: a Polars frame in, a figure out. No I/O, no SQL.

A figure is plotly.js's own JSON shape, a plain dict ``{"data": [trace, ...], "layout": {...}}``
(``go.Figure(figure)`` reads it back and validates it): building ``plotly.graph_objects``
figures validated and deep-copied every property, which was 95% of a dashboard page's time.
The theme (plotly's ``plotly_white`` template) is not repeated in every figure: the pages load
it once (``dashboards.pages``).

Conventions (reference/alerts-dashboards-scale.md §5): spend stacked by team over time with
unowned spend as its own hatched series; budget vs actual vs forecast with the forecast
interval; "% of spend allocated" against the 70/85/90 % maturity markers; top movers with
the change in money and in %. Every chart title carries the data-through date. Money is shown
through one ``MoneyFormat`` (``models.currency``): the currency comes from the data, the
locale from settings; axes name the currency and use the locale's separators.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from models.currency import MoneyFormat, decimals

PLAIN = MoneyFormat(None)  # amounts without a currency (no data): bare numbers
Figure = dict[str, Any]  # {"data": [...], "layout": {...}}: what Plotly.newPlot takes
UNOWNED = "__unowned__"
UNOWNED_LABEL = "unowned"
MATURITY = (70.0, 85.0, 90.0)  # FinOps crawl / walk / run samples for % allocated
COLORS = ["#4C78A8", "#F58518", "#54A24B", "#B279A2", "#72B7B2", "#EECA3B", "#FF9DA6",
          "#9D755D", "#BAB0AC", "#E45756"]
UNOWNED_COLOR = "#7f7f7f"
METRIC_WORDS = {"effective_cost": "effective cost", "billed_cost": "billed cost",
                "list_cost": "list cost"}
MARGIN = {"l": 60, "r": 20, "t": 70, "b": 50}


def title(text: str, through: date | None) -> dict[str, object]:
    suffix = f"<br><sup>data through {through.isoformat()}</sup>" if through else ""
    return {"text": f"{text}{suffix}", "x": 0.01}


def axis_title(text: str) -> dict[str, object]:
    return {"title": {"text": text}}


def cost_title(fmt: MoneyFormat) -> str:
    """An axis title for effective cost in ``fmt``'s currency: ``effective cost, EUR (€)``."""
    return f"effective cost, {fmt.label}"


def figure(data: list[dict[str, Any]], text: str, through: date | None,
           fmt: MoneyFormat = PLAIN, **layout: Any) -> Figure:
    """The figure of ``data`` with the common layout (title, margins, the locale's number
    separators) and ``layout``."""
    return {"data": data,
            "layout": {"title": title(text, through), "margin": dict(MARGIN),
                       "separators": fmt.separators, **layout}}


def bar(x: list[Any], y: list[Any], **trace: Any) -> dict[str, Any]:
    return {"type": "bar", "x": x, "y": y, **trace}


def money_hover(fmt: MoneyFormat, value: str = "y", across: str = "x",
                dated: bool = False) -> str:
    """A hover label with its unit: ``payments<br>2026-10-14: 1,234.50 EUR`` (the
    currency's own decimals; separators from the layout's locale)."""
    places = decimals(fmt.currency) if fmt.currency else 2
    where = f"%{{{across}|%Y-%m-%d}}" if dated else f"%{{{across}}}"
    unit = f" {fmt.currency}" if fmt.currency else ""
    return f"%{{fullData.name}}<br>{where}: %{{{value}:,.{places}f}}{unit}<extra></extra>"


DAY_MS = 86_400_000


def time_axis(first: date | None, last: date | None, step: str = "day") -> dict[str, Any]:
    """A date axis that never shows hours: ticks on whole days (weeks, months) and half a
    period of room either side, so a one-day window is one labelled day, not
    ``23:59:59.999``."""
    axis: dict[str, Any] = {"type": "date", "tickformat": "%b %-d" if step != "month"
                            else "%b %Y"}
    if first is None or last is None:
        return axis
    days = (last - first).days + 1
    # periods start on Mondays (weeks) or the 1st (months): the axis starts on the first
    first = first - timedelta(days=first.weekday()) if step == "week" else \
        first.replace(day=1) if step == "month" else first
    axis["tick0"] = first.isoformat()
    if step == "month":
        axis["dtick"] = "M1"
    elif step == "week":
        axis["dtick"] = 7 * DAY_MS
    elif days <= 16:
        axis["dtick"] = DAY_MS
    pad = {"day": 0.5, "week": 3.5, "month": 15}.get(step, 0.5)
    axis["range"] = [_iso_at(first, -pad), _iso_at(last, pad)]
    return axis


def _iso_at(day: date, offset_days: float) -> str:
    return (datetime(day.year, day.month, day.day) + timedelta(days=offset_days)).isoformat()


def explore(frame: pl.DataFrame, group: str, column: str, text: str, through: date | None,
            fmt: MoneyFormat, axis: dict[str, Any], links: dict[Any, str],
            unnamed: str = "(none)") -> Figure:
    """Stacked bars of ``period_start, <group>, <column>`` per group value; a bar carries the
    link its click drills down to (``links`` by value)."""
    data = []
    values = frame[group].unique().to_list() if frame.height else []
    order = sorted(values, key=lambda v: (v is None, v == UNOWNED, str(v)))
    for i, value in enumerate(order):
        rows = frame.filter(pl.col(group).is_null() if value is None
                            else pl.col(group) == value).sort("period_start")
        shown = unnamed if value is None else (UNOWNED_LABEL if value == UNOWNED else value)
        marker: dict[str, Any] = {"color": COLORS[i % len(COLORS)]}
        if value == UNOWNED:
            marker = {"color": UNOWNED_COLOR, "pattern": {"shape": "/"}}
        href = links.get(value)
        data.append(bar(rows["period_start"].to_list(), rows[column].to_list(), name=str(shown),
                        marker=marker, hovertemplate=money_hover(fmt, dated=True),
                        **({"customdata": [href] * rows.height} if href else {})))
    return figure(data, text, through, fmt, barmode="stack", xaxis=axis,
                  yaxis=axis_title(f"{METRIC_WORDS.get(column, column)}, {fmt.label}"),
                  legend={"title": {"text": group}})


def spend_by_team(frame: pl.DataFrame, through: date | None = None,
                  fmt: MoneyFormat = PLAIN) -> Figure:
    """Stacked daily bars per team (``day, team, effective_cost``); unowned is hatched grey."""
    data = []
    teams = sorted(t for t in frame["team"].unique().to_list() if t is not None and t != UNOWNED)
    for i, team in enumerate(teams):
        rows = frame.filter(pl.col("team") == team).sort("day")
        data.append(bar(rows["day"].to_list(), rows["effective_cost"].to_list(), name=team,
                        marker={"color": COLORS[i % len(COLORS)]},
                        hovertemplate=money_hover(fmt, dated=True)))
    unowned = frame.filter(pl.col("team").is_null() | (pl.col("team") == UNOWNED)).sort("day")
    if unowned.height:
        data.append(bar(unowned["day"].to_list(), unowned["effective_cost"].to_list(),
                        name=UNOWNED_LABEL,
                        marker={"color": UNOWNED_COLOR, "pattern": {"shape": "/"}},
                        hovertemplate=money_hover(fmt, dated=True)))
    return figure(data, "Spend by team per day", through, fmt, barmode="stack",
                  yaxis=axis_title(cost_title(fmt)), legend={"title": {"text": "team"}})


def budget_vs_actual(frame: pl.DataFrame, through: date | None = None,
                     locale: str = PLAIN.locale) -> Figure:
    """Per budget: budget amount, actual to date, forecast with its interval as error bars.
    Columns ``budget, currency, amount, actual, forecast, forecast_low, forecast_high``
    (nullable); each budget in its own currency, named under its bar when they differ."""
    currencies = sorted(set(frame["currency"].to_list()))
    shared = MoneyFormat(currencies[0] if len(currencies) == 1 else None, locale)
    names = frame["budget"].to_list()
    if len(currencies) > 1:
        names = [f"{n} ({c})" for n, c in zip(names, frame["currency"].to_list(), strict=True)]
    point = frame["forecast"].to_list()
    high = [(h - p) if h is not None and p is not None else None
            for h, p in zip(frame["forecast_high"].to_list(), point, strict=True)]
    low = [(p - lo) if lo is not None and p is not None else None
           for lo, p in zip(frame["forecast_low"].to_list(), point, strict=True)]
    data = [
        # the budget's grey is 4.6:1 on white (WCAG non-text contrast asks 3:1)
        bar(names, frame["amount"].to_list(), name="budget", marker={"color": "#6e7781"},
            hovertemplate=money_hover(shared)),
        bar(names, frame["actual"].to_list(), name="actual", marker={"color": "#4C78A8"},
            hovertemplate=money_hover(shared)),
        bar(names, point, name="forecast", marker={"color": "#F58518"},
            hovertemplate=money_hover(shared),
            error_y={"type": "data", "symmetric": False, "array": high, "arrayminus": low}),
    ]
    axis = shared.label if shared.currency else "each budget's currency"
    return figure(data, "Budget vs actual vs forecast (current period)", through, shared,
                  barmode="group", yaxis=axis_title(axis))


def allocated_gauge(pct: float | None, through: date | None = None) -> Figure:
    """The KPI "% of spend allocated" as a gauge with the 70/85/90 % markers."""
    steps = [{"range": [0, MATURITY[0]], "color": "#fde2e1"},
             {"range": [MATURITY[0], MATURITY[1]], "color": "#fff4ce"},
             {"range": [MATURITY[1], 100], "color": "#dff3e3"}]
    indicator = {
        "type": "indicator", "mode": "gauge+number", "value": pct,  # None: no data
        "number": {"suffix": " %", "valueformat": ".1f"},
        "gauge": {"axis": {"range": [0, 100]}, "bar": {"color": "#4C78A8"}, "steps": steps,
                  "threshold": {"line": {"color": "#222", "width": 3}, "value": MATURITY[2]}},
    }
    return figure([indicator], "% of spend allocated to a team", through, height=300)


def reference_line(level: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """A dotted horizontal line across the plot at ``level`` and its label on the right
    (what plotly's ``add_hline`` draws)."""
    shape = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": level,
             "y1": level, "line": {"color": "#999", "dash": "dot"}}
    label = {"text": f"{level:g} %", "showarrow": False, "xref": "x domain", "x": 1,
             "xanchor": "left", "yref": "y", "y": level, "yanchor": "middle"}
    return shape, label


def allocated_trend(frame: pl.DataFrame, through: date | None = None,
                    axis: dict[str, Any] | None = None) -> Figure:
    """Daily % allocated (``day, allocated_pct``) with dotted 70/85/90 % reference lines."""
    line = {"type": "scatter", "x": frame["day"].to_list(), "y": frame["allocated_pct"].to_list(),
            "mode": "lines+markers", "name": "% allocated",
            "hovertemplate": "%{x|%Y-%m-%d}: %{y:.1f} %<extra></extra>"}
    shapes, labels = zip(*(reference_line(level) for level in MATURITY), strict=True)
    fig = figure([line], "% of spend allocated per day", through,
                 yaxis={"range": [0, 100], **axis_title("%")}, showlegend=False,
                 xaxis=axis or {}, shapes=list(shapes), annotations=list(labels))
    fig["layout"]["margin"]["r"] = 60  # room for the reference-line labels
    return fig


def by_name_bar(frame: pl.DataFrame, text: str, through: date | None = None,
                unnamed: str = "(none)", fmt: MoneyFormat = PLAIN,
                links: dict[Any, str] | None = None) -> Figure:
    """Horizontal bars of ``name, effective_cost``, largest on top; with ``links`` (by
    name) a click on a bar drills down."""
    rows = frame.sort("effective_cost")
    names = [n if n is not None else unnamed for n in rows["name"].to_list()]
    drill = {"customdata": [links.get(n) for n in rows["name"].to_list()]} if links else {}
    data = [bar(rows["effective_cost"].to_list(), names, orientation="h", name="spend",
                marker={"color": "#4C78A8"},
                hovertemplate=money_hover(fmt, value="x", across="y"), **drill)]
    return figure(data, text, through, fmt, xaxis=axis_title(cost_title(fmt)),
                  height=max(260, 70 + 28 * rows.height))


def unowned_by_reason(frame: pl.DataFrame, through: date | None = None,
                      fmt: MoneyFormat = PLAIN) -> Figure:
    return by_name_bar(frame, "Unowned spend by reason", through, unnamed="(no reason)",
                       fmt=fmt)


def movers(frame: pl.DataFrame, n: int = 10) -> pl.DataFrame:
    """``team, previous, current`` -> with ``delta`` and ``delta_pct``, largest |delta| first."""
    return (
        frame.with_columns(
            (pl.col("current") - pl.col("previous")).alias("delta"),
            pl.when(pl.col("previous") != 0)
            .then(100 * (pl.col("current") - pl.col("previous")) / pl.col("previous"))
            .otherwise(None).alias("delta_pct"),
        )
        .sort([pl.col("delta").abs(), pl.col("team")], descending=[True, False])
        .head(n)
    )


def table(header: list[str], cells: list[list[str]], text: str, through: date | None,
          height: int, fmt: MoneyFormat = PLAIN, numeric: list[bool] | None = None) -> Figure:
    """A table; ``numeric`` columns (money, %) are right-aligned."""
    align = ["right" if n else "left" for n in (numeric or [False] * len(cells))]
    trace = {"type": "table",
             "header": {"values": header, "fill": {"color": "#eef1f5"}, "align": align},
             "cells": {"values": cells, "align": align}}
    return figure([trace], text, through, fmt, height=height)


def top_movers(frame: pl.DataFrame, through: date | None = None,
               fmt: MoneyFormat = PLAIN) -> Figure:
    """A table of the biggest week-over-week changes per team."""
    rows = movers(frame)
    teams = [UNOWNED_LABEL if t in (None, UNOWNED) else t for t in rows["team"].to_list()]
    pct = [signed_percent(p) for p in rows["delta_pct"].to_list()]
    cells = [teams, _amounts(rows["previous"], fmt), _amounts(rows["current"], fmt),
             _amounts(rows["delta"], fmt, signed=True), pct]
    header = ["team", "previous 7 days", "last 7 days", f"Δ {fmt.currency or ''}".strip(), "Δ %"]
    return table(header, cells, "Top movers, week over week", through,
                 max(220, 110 + 30 * rows.height), fmt, [False, True, True, True, True])


def signed_percent(value: float | None) -> str:
    """``+12.3 %``; what rounds to zero is ``0.0 %`` (never ``-0.0 %``); ``n/a`` for none."""
    if value is None:
        return "n/a"
    return "0.0 %" if round(value, 1) == 0 else f"{value:+.1f} %"


def _amounts(series: pl.Series, fmt: MoneyFormat, signed: bool = False) -> list[str]:
    """Each amount in ``fmt``; what rounds to zero is zero (never ``-$0.00``)."""
    places = decimals(fmt.currency) if fmt.currency else 2
    return [fmt(v if v is None or round(v, places) != 0 else 0.0, signed=signed)
            for v in series.to_list()]


def cost_kind_daily(frame: pl.DataFrame, through: date | None = None,
                    text: str = "Daily spend by cost kind",
                    fmt: MoneyFormat = PLAIN, axis: dict[str, Any] | None = None) -> Figure:
    """Stacked bars of ``day, name, effective_cost`` (name = cost kind)."""
    data = []
    kinds = sorted(k for k in frame["name"].unique().to_list() if k is not None)
    for i, kind in enumerate(kinds):
        rows = frame.filter(pl.col("name") == kind).sort("day")
        data.append(bar(rows["day"].to_list(), rows["effective_cost"].to_list(), name=kind,
                        marker={"color": COLORS[i % len(COLORS)]},
                        hovertemplate=money_hover(fmt, dated=True)))
    return figure(data, text, through, fmt, barmode="stack", yaxis=axis_title(cost_title(fmt)),
                  **({"xaxis": axis} if axis else {}))


def line(x: list[Any], y: list[Any], name: str, mode: str = "lines",
         **style: Any) -> dict[str, Any]:
    return {"type": "scatter", "x": x, "y": y, "mode": mode, "name": name, "line": style}


def budget_burn(daily: pl.DataFrame, amount: float, period_start: date, period_end: date,
                forecast: float | None = None, name: str = "budget",
                through: date | None = None, fmt: MoneyFormat = PLAIN) -> Figure:
    """Cumulative spend in the period (``day, effective_cost``, in the budget's currency
    ``fmt``) against the budget line, and a dashed line from today's actual to the
    period-end forecast."""
    rows = daily.filter(pl.col("day").is_between(period_start, period_end)).sort("day")
    cumulative = rows["effective_cost"].cum_sum().to_list() if rows.height else []
    data = [line(rows["day"].to_list(), cumulative, "actual (cumulative)", "lines+markers",
                 color="#4C78A8"),
            line([period_start, period_end], [amount, amount], f"budget {fmt(amount)}",
                 color="#E45756", dash="dash")]
    if forecast is not None and cumulative:
        data.append(line([rows["day"][-1], period_end], [cumulative[-1], forecast], "forecast",
                         color="#F58518", dash="dot"))
    for trace in data:
        trace["hovertemplate"] = money_hover(fmt, dated=True)
    return figure(data, f"Budget burn: {name}", through, fmt, yaxis=axis_title(fmt.label),
                  xaxis={"range": [period_start, period_end]})


def items_table(frame: pl.DataFrame, through: date | None = None,
                text: str = "Largest unowned items", fmt: MoneyFormat = PLAIN) -> Figure:
    """Any frame as a table (money columns in ``fmt``), e.g. the top unowned items."""
    values = []
    for column in frame.columns:
        series = frame[column]
        values.append(_amounts(series, fmt) if series.dtype == pl.Float64
                      else ["" if v is None else str(v) for v in series.to_list()])
    return table(frame.columns, values, text, through, max(240, 110 + 26 * frame.height), fmt,
                 [frame[c].dtype == pl.Float64 for c in frame.columns])
