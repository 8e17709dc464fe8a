"""Plotly figure builders: a Polars frame in, a ``go.Figure`` out. No I/O, no SQL.

Conventions (reference/alerts-dashboards-scale.md §5): spend stacked by team over time with
unowned spend as its own hatched series; budget vs actual vs forecast with the forecast
interval; "% of spend allocated" against the 70/85/90 % maturity markers; top movers with
the change in money and in %. Every chart title carries the data-through date. Money is shown
through one ``MoneyFormat`` (``models.currency``): the currency comes from the data, the
locale from settings; axes name the currency and use the locale's separators.
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl

from models.currency import MoneyFormat

PLAIN = MoneyFormat(None)  # amounts without a currency (no data): bare numbers

UNOWNED = "__unowned__"
UNOWNED_LABEL = "unowned"
MATURITY = (70.0, 85.0, 90.0)  # FinOps crawl / walk / run samples for % allocated
COLORS = ["#4C78A8", "#F58518", "#54A24B", "#B279A2", "#72B7B2", "#EECA3B", "#FF9DA6",
          "#9D755D", "#BAB0AC", "#E45756"]
UNOWNED_COLOR = "#7f7f7f"


def title(text: str, through: date | None) -> dict[str, object]:
    suffix = f"<br><sup>data through {through.isoformat()}</sup>" if through else ""
    return {"text": f"{text}{suffix}", "x": 0.01}


def _layout(fig: go.Figure, text: str, through: date | None, fmt: MoneyFormat = PLAIN,
            **extra: object) -> go.Figure:
    fig.update_layout(title=title(text, through), template="plotly_white",
                      margin={"l": 60, "r": 20, "t": 70, "b": 50},
                      separators=fmt.separators, **extra)
    return fig


def cost_title(fmt: MoneyFormat) -> str:
    """An axis title for effective cost in ``fmt``'s currency: ``effective cost, EUR (€)``."""
    return f"effective cost, {fmt.label}"


def spend_by_team(frame: pl.DataFrame, through: date | None = None,
                  fmt: MoneyFormat = PLAIN) -> go.Figure:
    """Stacked daily bars per team (``day, team, effective_cost``); unowned is hatched grey."""
    fig = go.Figure()
    teams = sorted(t for t in frame["team"].unique().to_list() if t is not None and t != UNOWNED)
    for i, team in enumerate(teams):
        rows = frame.filter(pl.col("team") == team).sort("day")
        fig.add_bar(x=rows["day"].to_list(), y=rows["effective_cost"].to_list(), name=team,
                    marker_color=COLORS[i % len(COLORS)])
    unowned = frame.filter(pl.col("team").is_null() | (pl.col("team") == UNOWNED)).sort("day")
    if unowned.height:
        fig.add_bar(x=unowned["day"].to_list(), y=unowned["effective_cost"].to_list(),
                    name=UNOWNED_LABEL, marker={"color": UNOWNED_COLOR, "pattern": {"shape": "/"}})
    return _layout(fig, "Spend by team per day", through, fmt, barmode="stack",
                   yaxis_title=cost_title(fmt), legend_title_text="team")


def budget_vs_actual(frame: pl.DataFrame, through: date | None = None,
                     locale: str = PLAIN.locale) -> go.Figure:
    """Per budget: budget amount, actual to date, forecast with its interval as error bars.
    Columns ``budget, currency, amount, actual, forecast, forecast_low, forecast_high``
    (nullable); each budget in its own currency, named under its bar when they differ."""
    currencies = sorted(set(frame["currency"].to_list()))
    shared = MoneyFormat(currencies[0] if len(currencies) == 1 else None, locale)
    names = frame["budget"].to_list()
    if len(currencies) > 1:
        names = [f"{n} ({c})" for n, c in zip(names, frame["currency"].to_list(), strict=True)]
    fig = go.Figure()
    fig.add_bar(x=names, y=frame["amount"].to_list(), name="budget", marker_color="#d0d7de")
    fig.add_bar(x=names, y=frame["actual"].to_list(), name="actual", marker_color="#4C78A8")
    point = frame["forecast"].to_list()
    high = [(h - p) if h is not None and p is not None else None
            for h, p in zip(frame["forecast_high"].to_list(), point, strict=True)]
    low = [(p - lo) if lo is not None and p is not None else None
           for lo, p in zip(frame["forecast_low"].to_list(), point, strict=True)]
    fig.add_bar(x=names, y=point, name="forecast", marker_color="#F58518",
                error_y={"type": "data", "symmetric": False, "array": high, "arrayminus": low})
    axis = shared.label if shared.currency else "each budget's currency"
    return _layout(fig, "Budget vs actual vs forecast (current period)", through, shared,
                   barmode="group", yaxis_title=axis)


def allocated_gauge(pct: float | None, through: date | None = None) -> go.Figure:
    """The KPI "% of spend allocated" as a gauge with the 70/85/90 % markers."""
    steps = [{"range": [0, MATURITY[0]], "color": "#fde2e1"},
             {"range": [MATURITY[0], MATURITY[1]], "color": "#fff4ce"},
             {"range": [MATURITY[1], 100], "color": "#dff3e3"}]
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=pct if pct is not None else 0.0,
        number={"suffix": " %", "valueformat": ".1f"},
        gauge={"axis": {"range": [0, 100]}, "bar": {"color": "#4C78A8"}, "steps": steps,
               "threshold": {"line": {"color": "#222", "width": 3}, "value": MATURITY[2]}},
    ))
    return _layout(fig, "% of spend allocated to a team", through, height=300)


def allocated_trend(frame: pl.DataFrame, through: date | None = None) -> go.Figure:
    """Daily % allocated (``day, allocated_pct``) with dotted 70/85/90 % reference lines."""
    fig = go.Figure()
    fig.add_scatter(x=frame["day"].to_list(), y=frame["allocated_pct"].to_list(),
                    mode="lines+markers", name="% allocated")
    for level in MATURITY:
        fig.add_hline(y=level, line_dash="dot", line_color="#999",
                      annotation_text=f"{level:g} %", annotation_position="right")
    fig = _layout(fig, "% of spend allocated per day", through, yaxis_range=[0, 100],
                  yaxis_title="%", showlegend=False)
    fig.update_layout(margin={"r": 60})  # room for the reference-line labels
    return fig


def by_name_bar(frame: pl.DataFrame, text: str, through: date | None = None,
                unnamed: str = "(none)", fmt: MoneyFormat = PLAIN) -> go.Figure:
    """Horizontal bars of ``name, effective_cost``, largest on top."""
    rows = frame.sort("effective_cost")
    names = [n if n is not None else unnamed for n in rows["name"].to_list()]
    fig = go.Figure(go.Bar(x=rows["effective_cost"].to_list(), y=names, orientation="h",
                           marker_color="#4C78A8"))
    height = max(260, 70 + 28 * rows.height)
    return _layout(fig, text, through, fmt, xaxis_title=cost_title(fmt), height=height)


def unowned_by_reason(frame: pl.DataFrame, through: date | None = None,
                      fmt: MoneyFormat = PLAIN) -> go.Figure:
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


def top_movers(frame: pl.DataFrame, through: date | None = None,
               fmt: MoneyFormat = PLAIN) -> go.Figure:
    """A table of the biggest week-over-week changes per team."""
    rows = movers(frame)
    teams = [UNOWNED_LABEL if t in (None, UNOWNED) else t for t in rows["team"].to_list()]
    pct = ["n/a" if p is None else f"{p:+.1f} %" for p in rows["delta_pct"].to_list()]
    cells = [teams, _amounts(rows["previous"], fmt), _amounts(rows["current"], fmt),
             _amounts(rows["delta"], fmt, signed=True), pct]
    fig = go.Figure(go.Table(
        header={"values": ["team", "previous 7 days", "last 7 days",
                           f"Δ {fmt.currency or ''}".strip(), "Δ %"],
                "fill_color": "#eef1f5", "align": "left"},
        cells={"values": cells, "align": "left"},
    ))
    return _layout(fig, "Top movers, week over week", through, fmt,
                   height=max(220, 110 + 30 * rows.height))


def _amounts(series: pl.Series, fmt: MoneyFormat, signed: bool = False) -> list[str]:
    return [fmt(v, signed=signed) for v in series.to_list()]


def cost_kind_daily(frame: pl.DataFrame, through: date | None = None,
                    text: str = "Daily spend by cost kind",
                    fmt: MoneyFormat = PLAIN) -> go.Figure:
    """Stacked bars of ``day, name, effective_cost`` (name = cost kind)."""
    fig = go.Figure()
    kinds = sorted(k for k in frame["name"].unique().to_list() if k is not None)
    for i, kind in enumerate(kinds):
        rows = frame.filter(pl.col("name") == kind).sort("day")
        fig.add_bar(x=rows["day"].to_list(), y=rows["effective_cost"].to_list(), name=kind,
                    marker_color=COLORS[i % len(COLORS)])
    return _layout(fig, text, through, fmt, barmode="stack", yaxis_title=cost_title(fmt))


def budget_burn(daily: pl.DataFrame, amount: float, period_start: date, period_end: date,
                forecast: float | None = None, name: str = "budget",
                through: date | None = None, fmt: MoneyFormat = PLAIN) -> go.Figure:
    """Cumulative spend in the period (``day, effective_cost``, in the budget's currency
    ``fmt``) against the budget line, and a dashed line from today's actual to the
    period-end forecast."""
    rows = daily.filter(pl.col("day").is_between(period_start, period_end)).sort("day")
    cumulative = rows["effective_cost"].cum_sum().to_list() if rows.height else []
    fig = go.Figure()
    fig.add_scatter(x=rows["day"].to_list(), y=cumulative, mode="lines+markers",
                    name="actual (cumulative)", line_color="#4C78A8")
    fig.add_scatter(x=[period_start, period_end], y=[amount, amount], mode="lines",
                    name=f"budget {fmt(amount)}", line={"color": "#E45756", "dash": "dash"})
    if forecast is not None and cumulative:
        fig.add_scatter(x=[rows["day"][-1], period_end], y=[cumulative[-1], forecast],
                        mode="lines", name="forecast", line={"color": "#F58518", "dash": "dot"})
    return _layout(fig, f"Budget burn: {name}", through, fmt, yaxis_title=fmt.label,
                   xaxis_range=[period_start, period_end])


def items_table(frame: pl.DataFrame, through: date | None = None,
                text: str = "Largest unowned items", fmt: MoneyFormat = PLAIN) -> go.Figure:
    """Any frame as a table (money columns in ``fmt``), e.g. the top unowned items."""
    values = []
    for column in frame.columns:
        series = frame[column]
        values.append(_amounts(series, fmt) if series.dtype == pl.Float64
                      else ["" if v is None else str(v) for v in series.to_list()])
    fig = go.Figure(go.Table(
        header={"values": frame.columns, "fill_color": "#eef1f5", "align": "left"},
        cells={"values": values, "align": "left"},
    ))
    return _layout(fig, text, through, fmt, height=max(240, 110 + 26 * frame.height))
