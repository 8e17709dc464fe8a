"""Daily spend anomalies per team, with ranked root causes (pure: frames in, anomalies out).

Method: a team's spend on a day is compared with its trailing baseline (the
``baseline_days`` days before it, zero-filled from the first day the warehouse has data).
Detection is robust, so one earlier spike does not hide the next: the day is anomalous when

    robust z = (spend - median) / max(1.4826 * MAD, 5 % of median, 1)  >= ``z``

and the impact is material: ``impact = spend - baseline mean`` is at least ``min_impact``
(in the reporting currency) and ``min_ratio`` of the baseline mean. Fewer than
``min_baseline`` baseline days means no verdict (AWS Cost Anomaly Detection also waits for history).

Root causes follow AWS's ``RootCause``/``Impact.Contribution``: the day's spend is split by
(cluster, namespace, service, cost kind); each group's contribution is its spend that day
minus its own baseline daily mean, so the contributions add up to the impact. They are
ranked by the amount contributed, largest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median
from typing import Any

import polars as pl

from finops.budgets import daily, driver_name
from models.currency import DEFAULT_LOCALE, format_money

CAUSE_KEYS = ("cluster", "namespace", "service_name", "cost_kind")


@dataclass(frozen=True)
class RootCause:
    cluster: str | None
    namespace: str | None
    service: str | None
    cost_kind: str | None
    actual: float
    expected: float

    @property
    def contribution(self) -> float:
        return self.actual - self.expected

    @property
    def name(self) -> str:
        base = driver_name(self.namespace, self.service, self.cost_kind)
        return f"{base} ({self.cost_kind})" if self.cost_kind and base != self.cost_kind else base

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cluster": self.cluster, "namespace": self.namespace,
                "service": self.service, "cost_kind": self.cost_kind,
                "actual": round(self.actual, 2), "expected": round(self.expected, 2),
                "contribution": round(self.contribution, 2)}


@dataclass(frozen=True)
class Anomaly:
    team: str
    day: date
    actual: float
    expected: float  # baseline daily mean
    median: float
    score: float  # robust z
    baseline_days: int
    root_causes: list[RootCause] = field(default_factory=list)
    currency: str | None = None  # of every amount (the reporting currency)

    @property
    def impact(self) -> float:
        return self.actual - self.expected

    @property
    def alert_key(self) -> str:
        return f"anomaly:{self.team}:{self.day.isoformat()}"

    def as_dict(self) -> dict[str, Any]:
        return {"team": self.team, "day": self.day.isoformat(), "currency": self.currency,
                "actual": round(self.actual, 2),
                "expected": round(self.expected, 2), "impact": round(self.impact, 2),
                "score": round(self.score, 2), "baseline_days": self.baseline_days,
                "root_causes": [c.as_dict() for c in self.root_causes]}


def robust_score(value: float, baseline: list[float]) -> tuple[float, float]:
    """(robust z of ``value`` against ``baseline``, baseline median)."""
    mid = median(baseline)
    mad = median(abs(v - mid) for v in baseline)
    scale = max(1.4826 * mad, 0.05 * abs(mid), 1.0)
    return (value - mid) / scale, mid


def root_causes(rows: pl.DataFrame, day: date, baseline_start: date, baseline_n: int,
                top: int = 5) -> list[RootCause]:
    """Groups of ``rows`` ranked by what they added on ``day`` over their baseline mean."""
    on_day = pl.col("day") == day
    in_base = pl.col("day").is_between(baseline_start, day - timedelta(days=1))
    grouped = (
        rows.filter(on_day | in_base)
        .group_by(CAUSE_KEYS)
        .agg(pl.col("effective_cost").filter(on_day).sum().alias("actual"),
             (pl.col("effective_cost").filter(in_base).sum() / baseline_n).alias("expected"))
        .with_columns((pl.col("actual") - pl.col("expected")).alias("contribution"))
        .filter(pl.col("contribution") > 0.005)
        .sort(["contribution", *CAUSE_KEYS], descending=[True, False, False, False, False],
              nulls_last=True)
        .head(top)
    )
    return [RootCause(r["cluster"], r["namespace"], r["service_name"], r["cost_kind"],
                      r["actual"], r["expected"]) for r in grouped.iter_rows(named=True)]


def detect_team(rows: pl.DataFrame, team: str, day: date, data_start: date, *,
                baseline_days: int = 14, min_baseline: int = 7, z: float = 4.0,
                min_impact: float = 25.0, min_ratio: float = 0.25) -> Anomaly | None:
    """The anomaly of ``team`` on ``day``, or None (normal, or too little baseline)."""
    start = max(data_start, day - timedelta(days=baseline_days))
    baseline = daily(rows, start, day - timedelta(days=1))
    if len(baseline) < min_baseline:
        return None
    actual = sum(daily(rows, day, day))
    score, mid = robust_score(actual, baseline)
    expected = sum(baseline) / len(baseline)
    impact = actual - expected
    if score < z or impact < min_impact or impact < min_ratio * abs(expected):
        return None
    causes = root_causes(rows, day, start, len(baseline))
    currency = rows["currency"].drop_nulls().first() if "currency" in rows.columns else None
    return Anomaly(team, day, actual, expected, mid, score, len(baseline), causes,
                   None if currency is None else str(currency))


def detect(spend: pl.DataFrame, days: list[date], data_start: date,
           **options: Any) -> list[Anomaly]:
    """Anomalies of every team on each of ``days`` (allocation-shaped ``spend``)."""
    owned = spend.filter(pl.col("team").is_not_null())
    found = []
    for team in sorted(set(owned["team"].to_list())):
        rows = owned.filter(pl.col("team") == team)
        for day in days:
            anomaly = detect_team(rows, team, day, data_start, **options)
            if anomaly:
                found.append(anomaly)
    return found


def anomaly_message(anomaly: Anomaly, dashboard_url: str,
                    locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """Slack Block Kit blocks + fallback text for one anomaly."""
    def money(amount: float) -> str:
        return format_money(amount, anomaly.currency, locale)

    title = f"Spend anomaly: {anomaly.team} on {anomaly.day}"
    summary = (f"{money(anomaly.actual)} spent vs {money(anomaly.expected)} expected "
               f"(+{money(anomaly.impact)}, robust z {anomaly.score:.1f}, "
               f"baseline {anomaly.baseline_days} days)")
    causes = [f"{i}. {c.name}: +{money(c.contribution)} "
              f"({money(c.actual)} vs {money(c.expected)}/day)"
              for i, c in enumerate(anomaly.root_causes, start=1)]
    text = f"{title}: {summary}. Root causes: {'; '.join(causes) or 'none'}. {dashboard_url}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Root causes (ranked by amount)*\n"
                                      + ("\n".join(causes) or "none found")}},
        {"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open team dashboard"},
            "url": dashboard_url}]},
    ]
    return {"text": text, "blocks": blocks}
