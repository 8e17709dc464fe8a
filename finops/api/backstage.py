"""Backstage Cost Insights: finops frames -> the plugin's shapes (pure, frames in).

Mapping: a Backstage group is a finops team (``__unallocated__``: spend nobody owns); a
project is a namespace (``k8s:<cluster>/<namespace>``) or a cloud sub-account
(``cloud:<provider>/<sub account>``); a product is a cloud service, Kubernetes spend being
the product ``kubernetes``; a catalog entity is what its ``backstage.io/kubernetes-id`` or
``kubernetes-namespace`` annotation names.

Intervals are the plugin's ISO 8601 repeating intervals, ``R2/P30D/2026-11-01`` or
``R2/P3M/2026-10-01``: two back-to-back periods of the duration ending on the date
(exclusive). Every daily series covers both, so the change between them can be computed:
ratio = (current - previous) / previous, left out when either is 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import polars as pl

from models.api import Window
from models.backstage import ChangeStatistic, Cost, DateAggregation, Entity, Trendline
from models.errors import InputError

UNALLOCATED = "__unallocated__"
KUBERNETES = "kubernetes"
INTERVALS = re.compile(r"^R(\d{1,2})/P(\d{1,4})([DM])/(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Periods:
    previous: Window
    current: Window

    @property
    def whole(self) -> Window:
        return Window(start=self.previous.start, end=self.current.end)


def _months_back(day: date, months: int) -> date:
    """The same day ``months`` earlier (days past the 28th are taken as the 28th)."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def parse_intervals(text: str) -> Periods:
    """``R2/P30D/2026-11-01`` -> the two periods before 2026-11-01 (the date is exclusive)."""
    found = INTERVALS.match(text.strip())
    if not found or int(found.group(1)) < 2 or int(found.group(2)) < 1:
        raise InputError(f"intervals {text[:60]!r}: expected R2/P<n>D/<YYYY-MM-DD> or "
                         "R2/P<n>M/<YYYY-MM-DD>")
    count, unit = int(found.group(2)), found.group(3)
    try:
        end = date.fromisoformat(found.group(4))
    except ValueError:
        raise InputError(f"intervals {text[:60]!r}: {found.group(4)} is not a date") from None
    if unit == "D":
        middle, start = end - timedelta(days=count), end - timedelta(days=2 * count)
    else:
        middle, start = _months_back(end, count), _months_back(end, 2 * count)
    last = end - timedelta(days=1)
    return Periods(Window(start=start, end=middle - timedelta(days=1)),
                   Window(start=middle, end=last))


def change(previous: float, current: float) -> ChangeStatistic:
    ratio = (current - previous) / previous if previous and current else None
    return ChangeStatistic(ratio=round(ratio, 6) if ratio is not None else None,
                           amount=round(current - previous, 2))


def _days(window: Window) -> list[date]:
    return [window.start + timedelta(days=i) for i in range((window.end - window.start).days + 1)]


def trendline(days: list[date], amounts: list[float]) -> Trendline | None:
    """Least squares over (UNIX seconds of the day, amount), as the plugin's example fits."""
    if len(days) < 2:
        return None
    xs = [datetime.combine(d, time()).timestamp() for d in days]
    mean_x, mean_y = sum(xs) / len(xs), sum(amounts) / len(amounts)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, amounts, strict=True)) / spread
    return Trendline(slope=slope, intercept=mean_y - slope * mean_x)


def cost(cost_id: str, daily: pl.DataFrame, periods: Periods,
         grouped: dict[str, list[Cost]] | None = None) -> Cost:
    """A ``Cost`` from ``day, effective_cost`` rows over both periods (missing days are 0)."""
    totals = dict(zip(daily["day"].to_list(), daily["effective_cost"].to_list(), strict=True))
    days = _days(periods.whole)
    amounts = [round(float(totals.get(d) or 0.0), 2) for d in days]
    before = sum(a for d, a in zip(days, amounts, strict=True) if d < periods.current.start)
    return Cost(id=cost_id,
                aggregation=[DateAggregation(date=d.isoformat(), amount=a)
                             for d, a in zip(days, amounts, strict=True)],
                change=change(before, sum(amounts) - before), trendline=trendline(days, amounts),
                groupedCosts=grouped)


def grouped(frame: pl.DataFrame, key: str, periods: Periods) -> list[Cost]:
    """One ``Cost`` per value of ``key`` in ``day, <key>, effective_cost`` rows."""
    names = sorted(frame[key].unique().to_list())
    return [cost(name, frame.filter(pl.col(key) == name), periods) for name in names]


def with_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``project`` and ``product`` ids to allocation rows carrying cluster, namespace,
    provider, sub_account and service."""
    project = pl.when(pl.col("cluster").is_not_null()).then(
        pl.concat_str([pl.lit("k8s:"), pl.col("cluster"), pl.lit("/"),
                       pl.col("namespace").fill_null("(cluster)")])
    ).otherwise(pl.concat_str([pl.lit("cloud:"), pl.col("provider").fill_null("?"), pl.lit("/"),
                               pl.col("sub_account").fill_null("?")]))
    product = pl.coalesce(pl.col("service"), pl.when(pl.col("cluster").is_not_null())
                          .then(pl.lit(KUBERNETES)).otherwise(pl.lit("other")))
    return frame.with_columns(project.alias("project"), product.alias("product"))


def entity(entity_id: str | None, rows: pl.DataFrame, periods: Periods,
           children: dict[str, list[Entity]] | None = None) -> Entity:
    """An ``Entity`` from ``period_start, effective_cost`` rows: [previous, current]."""
    def total(window: Window) -> float:
        part = rows.filter(pl.col("period_start").is_between(window.start, window.end))
        return round(float(part["effective_cost"].sum()), 2)
    before, now = total(periods.previous), total(periods.current)
    return Entity(id=entity_id, aggregation=(before, now), change=change(before, now),
                  entities=children or {})


def product_entity(product: str, rows: pl.DataFrame, periods: Periods) -> Entity:
    """The product's cost, broken down by project (its only breakdown)."""
    mine = rows.filter(pl.col("product") == product)
    projects = sorted(mine["project"].unique().to_list())
    children = [entity(p, mine.filter(pl.col("project") == p), periods) for p in projects]
    children.sort(key=lambda e: -e.aggregation[1])
    return entity(product, mine, periods, {"project": children})


def project_filters(project: str) -> dict[str, list[str]]:
    """``k8s:<cluster>/<namespace>`` or ``cloud:<provider>/<sub account>`` -> query filters."""
    kind, _, rest = project.partition(":")
    first, _, second = rest.partition("/")
    if kind == "k8s" and first and second:
        return {"cluster": [first], "namespace": [second]}
    if kind == "cloud" and first and second:
        return {"provider": [first], "sub_account": [second]}
    raise InputError(f"project {project[:80]!r}: expected k8s:<cluster>/<namespace> or "
                     "cloud:<provider>/<sub account>")
