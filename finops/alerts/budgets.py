"""Evaluate budgets over allocated spend (pure: frames in, statuses out; ``compose`` writes
the messages).

A budget (``finops.yaml``) has a scope (a team and/or equality filters on allocation
columns), a period (ISO week Monday-Sunday, calendar month or quarter), an amount and
thresholds on ``actual`` or ``forecast`` spend. For a date ``as_of`` the evaluation gives
the period window, the actual to date (effective, amortized cost), a forecast of the
period total with an interval (``finops.alerts.forecast``), % used, which thresholds are crossed
and the top drivers (namespace or cloud service, with dollars).

"To date" means up to the last day that has data (``data_through``), never past ``as_of``:
billing data lags, and a day without data is not a day without spend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from finops.alerts.forecast import Forecast, forecast_total
from models.config import Budget, Threshold

LOOKBACK_DAYS = 28  # forecast history: four weeks smooths the weekly cycle


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive
    label: str  # "2026-11", "2026-Q4", "2026-W47"


@dataclass(frozen=True)
class ThresholdState:
    percent: float
    kind: str
    crossed: bool
    alert_key: str
    also_to: tuple[str, ...] = ()

    @property
    def rank(self) -> tuple[float, bool]:
        """Higher is more severe: the larger percent; at equal percents, actual spend (a fact)
        before a forecast."""
        return (self.percent, self.kind == "actual")

    @property
    def label(self) -> str:
        return f"{'actual' if self.kind == 'actual' else 'forecast'} {self.percent:g}%"


@dataclass
class BudgetStatus:
    budget: Budget
    period: Period
    as_of: date
    data_through: date | None
    actual: float
    forecast: Forecast
    thresholds: list[ThresholdState] = field(default_factory=list)
    drivers: list[dict[str, Any]] = field(default_factory=list)
    # How the spend got into the budget's currency: {"from", "to", "rate", "source"} (the
    # rate of the last day counted; "rates" gives the range when it changed in the period).
    fx: dict[str, Any] = field(default_factory=dict)

    @property
    def percent_used(self) -> float:
        return 100.0 * self.actual / self.budget.amount

    @property
    def crossed(self) -> list[ThresholdState]:
        return [t for t in self.thresholds if t.crossed]

    @property
    def conversation(self) -> str:
        """The key of this budget and period's conversation."""
        return f"budget:{self.budget.name}:{self.period.label}"

    def as_dict(self) -> dict[str, Any]:
        b = self.budget
        return {
            "budget": b.name, "team": b.team, "filter": dict(b.filter), "period": b.period,
            "period_label": self.period.label, "period_start": self.period.start.isoformat(),
            "period_end": self.period.end.isoformat(), "as_of": self.as_of.isoformat(),
            "data_through": self.data_through.isoformat() if self.data_through else None,
            "amount": b.amount, "currency": b.currency, "actual": round(self.actual, 2),
            "percent_used": round(self.percent_used, 2),
            "forecast": _rounded(self.forecast.as_dict()),
            "fx": self.fx,
            "thresholds": [
                {"percent": t.percent, "kind": t.kind, "crossed": t.crossed,
                 "alert_key": t.alert_key} for t in self.thresholds
            ],
            "drivers": self.drivers,
        }


def _rounded(values: dict[str, object]) -> dict[str, object]:
    return {k: round(v, 2) if isinstance(v, float) and k != "level" else v
            for k, v in values.items()}


def period_window(kind: str, as_of: date) -> Period:
    """The budget period that contains ``as_of``."""
    if kind == "week":
        start = as_of - timedelta(days=as_of.weekday())
        year, week, _ = as_of.isocalendar()
        return Period(kind, start, start + timedelta(days=6), f"{year}-W{week:02d}")
    if kind == "quarter":
        quarter = (as_of.month - 1) // 3
        start = date(as_of.year, 3 * quarter + 1, 1)
        return Period(kind, start, _month_end(date(as_of.year, 3 * quarter + 3, 1)),
                      f"{as_of.year}-Q{quarter + 1}")
    start = as_of.replace(day=1)
    return Period("month", start, _month_end(start), f"{as_of:%Y-%m}")


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def alert_key(budget: Budget, period: Period, threshold: Threshold) -> str:
    return f"budget:{budget.name}:{period.label}:{threshold.kind}:{threshold.percent:g}"


def scoped(spend: pl.DataFrame, budget: Budget) -> pl.DataFrame:
    """The rows of ``spend`` (allocation-shaped) inside the budget's scope."""
    condition = pl.lit(True)
    if budget.team:
        condition &= pl.col("team") == budget.team
    for column, value in budget.filter.items():
        condition &= pl.col(column) == value
    return spend.filter(condition)


def daily(rows: pl.DataFrame, start: date, end: date) -> list[float]:
    """Spend per day from ``start`` to ``end`` inclusive, zero on days without rows."""
    if end < start:
        return []
    by_day = rows.filter(pl.col("day").is_between(start, end)).group_by("day").agg(
        pl.col("effective_cost").sum()
    )
    totals = dict(zip(by_day["day"].to_list(), by_day["effective_cost"].to_list(), strict=True))
    return [float(totals.get(start + timedelta(days=i), 0.0))
            for i in range((end - start).days + 1)]


def driver_name(namespace: str | None, service: str | None, cost_kind: str | None) -> str:
    """How a driver is named in messages: the namespace, else the cloud service."""
    if namespace:
        return f"namespace {namespace}"
    if service:
        return f"service {service}"
    return f"{cost_kind or 'other'} costs"


def top_drivers(rows: pl.DataFrame, n: int = 3) -> list[dict[str, Any]]:
    """The ``n`` largest (namespace or service) contributors to ``rows``, with dollars."""
    if rows.is_empty():
        return []
    grouped = (
        rows.with_columns(
            pl.when(pl.col("namespace").is_not_null()).then(pl.lit(None, pl.String))
            .otherwise(pl.col("service_name")).alias("service_name"))
        .group_by("namespace", "service_name", "cluster")
        .agg(pl.col("effective_cost").sum())
        .sort(["effective_cost", "namespace", "service_name"], descending=[True, False, False],
              nulls_last=True)
        .head(n)
    )
    return [
        {"name": driver_name(r["namespace"], r["service_name"], None), "cluster": r["cluster"],
         "namespace": r["namespace"], "service": r["service_name"],
         "cost": round(r["effective_cost"], 2)}
        for r in grouped.iter_rows(named=True)
    ]


def evaluate(budget: Budget, spend: pl.DataFrame, as_of: date,
             data_range: tuple[date, date] | None,
             fx: dict[str, Any] | None = None) -> BudgetStatus:
    """Status of ``budget`` on ``as_of``; ``data_range`` = first and last day with any data;
    ``spend`` already in the budget's currency (``fx`` says how it got there)."""
    period = period_window(budget.period, as_of)
    rows = scoped(spend, budget)
    start = max(period.start, budget.starts) if budget.starts else period.start
    through = min(as_of, data_range[1]) if data_range else None
    in_period = rows.filter(pl.col("day").is_between(start, through)) if through else rows.clear()
    actual = float(in_period["effective_cost"].sum())
    forecast = _forecast(rows, actual, period, through, data_range)
    status = BudgetStatus(budget, period, as_of, through, actual, forecast,
                          drivers=top_drivers(in_period), fx=fx or {})
    status.thresholds = [_threshold(status, t) for t in budget.thresholds]
    return status


def _forecast(rows: pl.DataFrame, actual: float, period: Period, through: date | None,
              data_range: tuple[date, date] | None) -> Forecast:
    if through is None or data_range is None:
        return forecast_total([], actual, (period.end - period.start).days + 1)
    first = max(data_range[0], through - timedelta(days=LOOKBACK_DAYS - 1))
    remaining = (period.end - max(through, period.start - timedelta(days=1))).days
    return forecast_total(daily(rows, first, through), actual, remaining)


def _threshold(status: BudgetStatus, threshold: Threshold) -> ThresholdState:
    limit = status.budget.amount * threshold.percent / 100.0
    if threshold.kind == "forecast":
        point = status.forecast.point
        crossed = status.forecast.ok and point is not None and point >= limit
    else:
        crossed = status.actual >= limit
    return ThresholdState(threshold.percent, threshold.kind, bool(crossed),
                          alert_key(status.budget, status.period, threshold),
                          tuple(threshold.also_to))
