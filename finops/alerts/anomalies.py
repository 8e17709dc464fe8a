"""Daily spend anomalies of every monitored scope, with ranked root causes (pure: series in,
anomalies out; the warehouse reads are in ``finops.alerts.spend``).

Monitors (``finops.yaml`` ``anomalies.monitors``) watch each value of a dimension: every
team, unowned spend (one scope), each account / project / subscription (``sub_account_id``),
each cloud service and each cluster. A scope's spend on a day is compared with its trailing
baseline (the ``baseline_days`` days before it, zero-filled from the first day the warehouse
has data). The day is anomalous when, with the monitor's sensitivity,

    robust z = (spend - median) / max(1.4826 * MAD, 5 % of median, 0.01)  >= threshold
    impact = spend - baseline mean  >= min_impact   and   >= min_change * baseline mean

The 5 % floor keeps a perfectly flat baseline from calling a cent an anomaly; with it, a
+30 % step of a scope spending 10 a day scores 6. Fewer than ``min_baseline_days`` baseline
days give no verdict (AWS Cost Anomaly Detection also waits for history).

One spike is seen by several monitors at once (a resource's team, its account, its service
and its cluster): ``merge`` makes them one anomaly when their largest root cause is the same
line, keeping the most specific owner first (team, then unowned, account, service, cluster)
and naming the other monitors that saw it.

Root causes follow AWS's ``RootCause`` / ``Impact.Contribution``: the day's spend is split by
(team, account, service, cluster, namespace, workload, resource, cost kind); each group's
contribution is its spend that day minus its own baseline daily mean, ranked by money;
contributions under max(``root_cause_floor``, ``root_cause_share`` × impact) are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from statistics import median
from typing import Any

from models.config import Monitor

PRIORITY = ("team", "unowned", "account", "service", "cluster")  # owner first
CAUSE_KEYS = ("team", "sub_account_id", "service_name", "cluster", "namespace",
              "workload_name", "resource_id", "cost_kind")
SCOPE_WORDS = {"team": "team", "unowned": "unowned spend", "account": "account",
               "service": "service", "cluster": "cluster"}


@dataclass(frozen=True)
class RootCause:
    keys: dict[str, str | None]  # CAUSE_KEYS -> value
    actual: float
    expected: float
    region: str | None = None

    @property
    def contribution(self) -> float:
        return self.actual - self.expected

    @property
    def identity(self) -> tuple[str | None, ...]:
        return tuple(self.keys.get(k) for k in CAUSE_KEYS)

    @property
    def name(self) -> str:
        """How a person finds it: the resource, else the workload / namespace, else the
        service, with where it runs."""
        k = self.keys
        what = (k.get("resource_id") or _workload(k) or
                (f"service {k['service_name']}" if k.get("service_name") else None)
                or f"{k.get('cost_kind') or 'other'} costs")
        where = [f"account {k['sub_account_id']}" if k.get("sub_account_id") else "",
                 f"region {self.region}" if self.region else "",
                 f"cluster {k['cluster']}" if k.get("cluster") and "/" not in what else ""]
        kind = f" ({k['cost_kind']})" if k.get("cost_kind") else ""
        placed = ", ".join(p for p in where if p)
        return f"{what}{kind}" + (f" in {placed}" if placed else "")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.keys, "region": self.region,
                "actual": round(self.actual, 2), "expected": round(self.expected, 2),
                "contribution": round(self.contribution, 2)}


def _workload(keys: dict[str, str | None]) -> str | None:
    if not keys.get("namespace"):
        return None
    base = f"{keys.get('cluster') or '?'}/{keys['namespace']}"
    return f"{base}/{keys['workload_name']}" if keys.get("workload_name") else base


@dataclass(frozen=True)
class Anomaly:
    dimension: str
    value: str
    day: date
    actual: float
    expected: float  # baseline daily mean
    median: float
    score: float  # robust z
    baseline_days: int
    currency: str | None = None
    root_causes: list[RootCause] = field(default_factory=list)
    also: list[tuple[str, str]] = field(default_factory=list)  # other monitors that saw it

    @property
    def impact(self) -> float:
        return self.actual - self.expected

    @property
    def scope(self) -> str:
        word = SCOPE_WORDS[self.dimension]
        return word if self.dimension == "unowned" else f"{word} {self.value}"

    @property
    def team(self) -> str | None:
        """The team that owns it: a team monitor's value, else the one team every root cause
        belongs to (None: unowned or shared by several)."""
        if self.dimension == "team":
            return self.value
        teams = {c.keys.get("team") for c in self.root_causes}
        return teams.pop() if len(teams) == 1 and None not in teams else None

    def as_dict(self) -> dict[str, Any]:
        return {"dimension": self.dimension, "value": self.value, "scope": self.scope,
                "team": self.team, "day": self.day.isoformat(), "currency": self.currency,
                "actual": round(self.actual, 2), "expected": round(self.expected, 2),
                "impact": round(self.impact, 2), "score": round(self.score, 2),
                "baseline_days": self.baseline_days,
                "also_seen_by": [f"{SCOPE_WORDS[d]} {v}".strip() for d, v in self.also],
                "root_causes": [c.as_dict() for c in self.root_causes]}


def robust_score(value: float, baseline: list[float]) -> tuple[float, float]:
    """(robust z of ``value`` against ``baseline``, baseline median)."""
    mid = median(baseline)
    mad = median(abs(v - mid) for v in baseline)
    scale = max(1.4826 * mad, 0.05 * abs(mid), 0.01)
    return (value - mid) / scale, mid


def series_of(costs: dict[date, float], start: date, end: date) -> list[float]:
    """Spend per day from ``start`` to ``end`` inclusive, zero on days without spend."""
    return [costs.get(start + timedelta(days=i), 0.0) for i in range((end - start).days + 1)]


def detect_one(costs: dict[date, float], day: date, data_start: date, monitor: Monitor, *,
               baseline_days: int, min_baseline: int) -> Anomaly | None:
    """The anomaly of this scope on ``day`` (dimension and value left blank), or None."""
    start = max(data_start, day - timedelta(days=baseline_days))
    baseline = series_of(costs, start, day - timedelta(days=1))
    if len(baseline) < min_baseline:
        return None
    actual = costs.get(day, 0.0)
    score, mid = robust_score(actual, baseline)
    expected = sum(baseline) / len(baseline)
    impact = actual - expected
    if (score < monitor.threshold or impact < monitor.min_impact
            or impact < monitor.min_change * abs(expected)):
        return None
    return Anomaly(monitor.dimension, "", day, actual, expected, mid, score, len(baseline))


def detect(series: dict[tuple[str, str], dict[date, float]], days: list[date],
           data_start: date, monitors: list[Monitor], *, baseline_days: int = 14,
           min_baseline: int = 7, currency: str | None = None) -> list[Anomaly]:
    """Anomalies of every (dimension, value) series on each of ``days``."""
    by_dimension: dict[str, Monitor] = {m.dimension: m for m in monitors}
    found = []
    for (dimension, value), costs in sorted(series.items()):
        monitor = by_dimension.get(dimension)
        if monitor is None:
            continue
        for day in days:
            hit = detect_one(costs, day, data_start, monitor, baseline_days=baseline_days,
                             min_baseline=min_baseline)
            if hit:
                found.append(replace(hit, value=value, currency=currency))
    return found


def ranked_causes(rows: list[dict[str, Any]], impact: float, floor: float, share: float,
                  top: int = 5) -> list[RootCause]:
    """Root causes from grouped rows (``CAUSE_KEYS`` + ``actual`` + ``expected``): the
    largest contributions first, those under the floor dropped."""
    least = max(floor, share * impact)
    causes = [RootCause({k: r.get(k) for k in CAUSE_KEYS}, float(r["actual"] or 0.0),
                        float(r["expected"] or 0.0)) for r in rows]
    kept = [c for c in causes if c.contribution >= least]
    kept.sort(key=lambda c: (-c.contribution, tuple(str(v) for v in c.identity)))
    return kept[:top]


def merge(anomalies: list[Anomaly]) -> list[Anomaly]:
    """One anomaly per incident: anomalies of a day whose largest root cause is the same line
    are one, under the monitor that says most about who owns it."""
    groups: dict[tuple[Any, ...], list[Anomaly]] = {}
    for anomaly in anomalies:
        top = anomaly.root_causes[0].identity if anomaly.root_causes else None
        key = (anomaly.day, top) if top else (anomaly.day, anomaly.dimension, anomaly.value)
        groups.setdefault(key, []).append(anomaly)
    merged = []
    for group in groups.values():
        group.sort(key=lambda a: (PRIORITY.index(a.dimension), a.value))
        first = group[0]
        merged.append(replace(first, also=[(a.dimension, a.value) for a in group[1:]]))
    return sorted(merged, key=lambda a: (a.day, PRIORITY.index(a.dimension), a.value))
