"""Figure builders on small frames: the figure says what the frame says. Every figure is read
back through ``go.Figure``, which validates each property against plotly's schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
import polars as pl
import pytest

from dashboards import alt, figures, pages
from models.currency import MoneyFormat

D1, D2, D3 = date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)
THROUGH = date(2026, 10, 3)


def built(builder: Callable[..., figures.Figure], *args: Any, **kwargs: Any) -> go.Figure:
    """The figure ``builder`` makes, validated."""
    return go.Figure(builder(*args, **kwargs))


def test_spend_by_team_stacks_teams_and_hatches_unowned() -> None:
    frame = pl.DataFrame({
        "day": [D1, D1, D1, D2, D2],
        "team": ["search", "payments", "__unowned__", "payments", "__unowned__"],
        "effective_cost": [4.0, 10.5, 1.25, 11.0, 2.0],
    })
    fig = built(figures.spend_by_team, frame, THROUGH)
    assert [t.name for t in fig.data] == ["payments", "search", "unowned"]
    assert fig.layout.barmode == "stack"
    unowned = fig.data[-1]
    assert unowned.marker.pattern.shape == "/"
    assert list(unowned.y) == [1.25, 2.0]
    assert sum(sum(t.y) for t in fig.data) == pytest.approx(frame["effective_cost"].sum())
    assert "data through 2026-10-03" in fig.layout.title.text


def test_budget_vs_actual_draws_the_forecast_interval() -> None:
    frame = pl.DataFrame({
        "budget": ["payments-monthly", "search-monthly"], "currency": ["USD", "USD"],
        "amount": [400.0, 600.0], "actual": [231.77, 262.78], "forecast": [510.0, None],
        "forecast_low": [480.0, None], "forecast_high": [560.0, None],
    })
    fig = built(figures.budget_vs_actual, frame, THROUGH)
    assert fig.layout.yaxis.title.text == "USD ($)"
    assert [t.name for t in fig.data] == ["budget", "actual", "forecast"]
    forecast = fig.data[2]
    assert list(forecast.error_y.array) == [50.0, None]
    assert list(forecast.error_y.arrayminus) == [30.0, None]
    assert fig.layout.barmode == "group"


def test_allocated_gauge_and_maturity_markers() -> None:
    fig = built(figures.allocated_gauge, 83.54, THROUGH)
    indicator = fig.data[0]
    assert indicator.value == 83.54
    assert indicator.gauge.threshold.value == 90.0
    assert [s.range for s in indicator.gauge.steps] == [(0, 70.0), (70.0, 85.0), (85.0, 100)]
    empty = figures.allocated_gauge(None)
    assert empty["data"][0]["value"] is None and not alt.has_data(empty)  # "no data", not 0 %
    assert alt.has_data(figures.allocated_gauge(0.0))


def test_allocated_trend_has_reference_lines() -> None:
    frame = pl.DataFrame({"day": [D1, D2], "allocated_pct": [80.0, 84.5]})
    fig = built(figures.allocated_trend, frame, THROUGH)
    assert sorted(shape.y0 for shape in fig.layout.shapes) == [70.0, 85.0, 90.0]
    assert list(fig.data[0].y) == [80.0, 84.5]


def test_movers_orders_by_absolute_change() -> None:
    frame = pl.DataFrame({"team": ["a", "b", "c", "new"], "previous": [100.0, 50.0, 10.0, 0.0],
                          "current": [90.0, 80.0, 10.0, 5.0]})
    out = figures.movers(frame)
    assert out["team"].to_list() == ["b", "a", "new", "c"]
    assert out["delta"].to_list() == [30.0, -10.0, 5.0, 0.0]
    assert out["delta_pct"].to_list() == [60.0, -10.0, None, 0.0]


def test_top_movers_table() -> None:
    frame = pl.DataFrame({"team": ["payments", "__unowned__"], "previous": [108.5, 45.92],
                          "current": [123.27, 45.92]})
    cells = built(figures.top_movers, frame, THROUGH).data[0].cells.values
    assert list(cells[0]) == ["payments", "unowned"]
    assert list(cells[3]) == ["+14.77", "+0.00"]
    assert list(cells[4]) == ["+13.6 %", "0.0 %"]  # never "+0.0 %" or "-0.0 %"


def test_cost_kind_daily_one_trace_per_kind() -> None:
    frame = pl.DataFrame({"day": [D1, D1, D2], "name": ["ram", "cpu", "cpu"],
                          "effective_cost": [5.13, 10.37, 12.48]})
    fig = built(figures.cost_kind_daily, frame, THROUGH)
    assert [t.name for t in fig.data] == ["cpu", "ram"]
    assert list(fig.data[0].y) == [10.37, 12.48]


def test_by_name_bar_puts_the_largest_on_top() -> None:
    frame = pl.DataFrame({"name": ["payments-api", None], "effective_cost": [231.77, 3.5]})
    fig = built(figures.by_name_bar, frame, "Top namespaces", THROUGH,
                unnamed="(outside Kubernetes)")
    assert list(fig.data[0].y) == ["(outside Kubernetes)", "payments-api"]  # bottom to top


def test_budget_burn_is_cumulative_with_budget_and_forecast_lines() -> None:
    daily = pl.DataFrame({"day": [D1, D2, D3], "effective_cost": [15.5, 15.5, 17.61]})
    fig = built(figures.budget_burn, daily, 400.0, D1, date(2026, 10, 31), 510.0, "payments",
                THROUGH)
    actual, budget, forecast = fig.data
    assert list(actual.y) == pytest.approx([15.5, 31.0, 48.61])
    assert list(budget.y) == [400.0, 400.0]
    assert list(forecast.x) == [D3, date(2026, 10, 31)] and list(forecast.y)[1] == 510.0
    no_forecast = built(figures.budget_burn, daily, 400.0, D1, date(2026, 10, 31), None)
    assert len(no_forecast.data) == 2


def test_items_table_formats_money() -> None:
    frame = pl.DataFrame({"reason": ["no-team-label"], "namespace": [None],
                          "effective_cost": [1234.5]})
    cells = built(figures.items_table, frame, THROUGH).data[0].cells.values
    assert list(cells[2]) == ["1,234.50"] and list(cells[1]) == [""]


def test_empty_frames_still_make_figures() -> None:
    empty = pl.DataFrame(schema={"day": pl.Date, "team": pl.String, "effective_cost": pl.Float64})
    assert built(figures.spend_by_team, empty).data == ()
    burn = built(figures.budget_burn, empty.select("day", "effective_cost"), 10.0, D1, D3)
    assert burn.data[0].y in (None, ())


def test_hover_labels_carry_the_unit_and_axes_never_show_hours() -> None:
    fmt = MoneyFormat("JPY")
    assert figures.money_hover(fmt, dated=True) == (
        "%{fullData.name}<br>%{x|%Y-%m-%d}: %{y:,.0f} JPY<extra></extra>")
    one_day = figures.time_axis(D1, D1)
    assert one_day["dtick"] == figures.DAY_MS and one_day["tickformat"] == "%b %-d"
    assert one_day["range"] == [f"{D1 - timedelta(days=1)}T12:00:00", f"{D1}T12:00:00"]
    months = figures.time_axis(date(2026, 1, 15), date(2026, 6, 2), "month")
    assert months["dtick"] == "M1" and months["tick0"] == "2026-01-01"


def test_money_that_rounds_to_zero_has_no_sign() -> None:
    frame = pl.DataFrame({"team": ["a", "b"], "previous": [10.0, 5.0],
                          "current": [10.001, 4.998]})
    cells = figures.top_movers(frame, fmt=MoneyFormat("USD"))["data"][0]["cells"]["values"]
    assert cells[3] == ["+$0.00", "+$0.00"] and cells[4] == ["0.0 %", "0.0 %"]


def test_a_figure_without_points_says_so() -> None:
    empty = pl.DataFrame(schema={"period_start": pl.Date, "team": pl.String,
                                 "effective_cost": pl.Float64})
    fig = figures.explore(empty, "team", "effective_cost", "Spend", D1, MoneyFormat(None),
                          figures.time_axis(D1, D1), {})
    html = pages.figure_div(fig, "explore", True, data_url="/api/allocation?x=1")
    assert "No data for this window." in html and "plotly-graph-div" not in html
