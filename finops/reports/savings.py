"""Right-sizing: per workload, requests against p95 usage over a window, and the money a month
the smaller request would save, ranked (``finops report savings``, ``GET /api/savings``, the
efficiency page).

Method (Kubecost's "request right-sizing" in one query): per workload and hour, the pods'
requests and usage are summed (core-hours and GiB-hours of that hour, i.e. the average cores
and GiB held); the request is their mean over the hours the workload ran, the usage their 95th
percentile. The suggestion is ``p95 x (1 + headroom)`` (20 % by default), made only where it
is below the request. The money is the request given back at the cluster's own price of a
core-hour / GiB-hour in the window (its allocated CPU / RAM money over its pods' allocated
core-/GiB-hours, ``max(request, usage)`` per pod-hour), for ``HOURS_PER_MONTH`` hours: so it
is in the allocation's reporting currency and matches what the allocation charges.

Reads go through a ``Query`` (SQL and bound values in, a frame out) so the API (the request's
snapshot reader) and the CLI (the published snapshot) run the same SQL; this module opens
nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl

Query = Callable[[str, dict[str, Any]], pl.DataFrame]
HOURS_PER_MONTH = 730.0  # 365 x 24 / 12
HEADROOM = 0.2
MIN_SAVING = 0.01  # a month: below a cent is no suggestion
# The columns a terminal table shows (CSV and JSON carry them all).
BRIEF = ("team", "cluster", "namespace", "workload_name", "cpu_request", "cpu_suggested",
         "memory_request_gib", "memory_suggested_gib", "monthly_saving")

# {team} is the SQL of the team scope (a bound value or TRUE); every other value is bound.
RIGHTSIZING_SQL = """
WITH pods AS (
    SELECT cluster, namespace, workload_kind, workload_name, hour,
           sum(cpu_request * running_seconds) / 3600 AS cpu_req,
           sum(cpu_usage * running_seconds) / 3600 AS cpu_used,
           sum(memory_request * running_seconds) / 3600 / 2^30 AS mem_req,
           sum(memory_usage * running_seconds) / 3600 / 2^30 AS mem_used,
           sum(greatest(coalesce(cpu_request, 0), coalesce(cpu_usage, 0)) * running_seconds)
               / 3600 AS cpu_alloc,
           sum(greatest(coalesce(memory_request, 0), coalesce(memory_usage, 0))
               * running_seconds) / 3600 / 2^30 AS mem_alloc
    FROM k8s_pod_hour
    WHERE hour >= $start AND hour < $stop AND workload_name IS NOT NULL
    GROUP BY ALL
),
workloads AS (
    SELECT cluster, namespace, workload_kind, workload_name, count(*) AS hours,
           avg(coalesce(cpu_req, 0)) AS cpu_request, quantile_cont(cpu_used, 0.95) AS cpu_p95,
           avg(coalesce(mem_req, 0)) AS memory_request_gib,
           quantile_cont(mem_used, 0.95) AS memory_p95_gib
    FROM pods GROUP BY ALL
),
held AS (
    SELECT cluster, sum(cpu_alloc) AS core_hours, sum(mem_alloc) AS gib_hours
    FROM pods GROUP BY cluster
),
money AS (
    SELECT cluster, any_value(currency) AS currency,
           sum(effective_cost) FILTER (WHERE cost_kind = 'cpu') AS cpu_cost,
           sum(effective_cost) FILTER (WHERE cost_kind = 'ram') AS ram_cost
    FROM {source} WHERE day BETWEEN $first AND $last AND cluster IS NOT NULL
    GROUP BY cluster
),
owners AS (
    SELECT cluster, namespace, workload_kind, workload_name,
           arg_max(team, effective_cost) AS team
    FROM (SELECT cluster, namespace, workload_kind, workload_name, team,
                 sum(effective_cost) AS effective_cost
          FROM {workloads} WHERE day BETWEEN $first AND $last AND workload_name IS NOT NULL
          GROUP BY ALL)
    GROUP BY ALL
),
priced AS (
    SELECT w.*, o.team, m.currency,
           m.cpu_cost / nullif(h.core_hours, 0) AS core_hour_price,
           m.ram_cost / nullif(h.gib_hours, 0) AS gib_hour_price,
           greatest(w.cpu_p95 * (1 + $headroom), 0) AS cpu_suggested,
           greatest(w.memory_p95_gib * (1 + $headroom), 0) AS memory_suggested_gib
    FROM workloads AS w JOIN held AS h USING (cluster)
    LEFT JOIN money AS m USING (cluster)
    LEFT JOIN owners AS o USING (cluster, namespace, workload_kind, workload_name)
),
saved AS (
    SELECT *,
           coalesce(greatest(cpu_request - cpu_suggested, 0) * core_hour_price, 0)
               * $month AS cpu_saving,
           coalesce(greatest(memory_request_gib - memory_suggested_gib, 0) * gib_hour_price, 0)
               * $month AS memory_saving
    FROM priced
)
SELECT team, cluster, namespace, workload_kind, workload_name, hours,
       round(cpu_request, 3) AS cpu_request, round(cpu_p95, 3) AS cpu_p95,
       round(least(cpu_suggested, cpu_request), 3) AS cpu_suggested,
       round(memory_request_gib, 3) AS memory_request_gib,
       round(memory_p95_gib, 3) AS memory_p95_gib,
       round(least(memory_suggested_gib, memory_request_gib), 3) AS memory_suggested_gib,
       currency, round(cpu_saving, 2) AS cpu_saving, round(memory_saving, 2) AS memory_saving,
       round(cpu_saving + memory_saving, 2) AS monthly_saving
FROM saved
WHERE {team} AND cpu_saving + memory_saving >= $min_saving
ORDER BY monthly_saving DESC, cluster, namespace, workload_name
"""


def window_params(start: date, end: date) -> dict[str, Any]:
    """The bound values of a window: the days, and the hours ``[start 00:00, end+1 00:00)``."""
    return {"first": start, "last": end, "start": datetime.combine(start, time()),
            "stop": datetime.combine(end + timedelta(days=1), time())}


def rightsizing(query: Query, start: date, end: date, *, team: str | None = None,
                source: str = "allocation", workloads: str = "allocation",
                headroom: float = HEADROOM) -> pl.DataFrame:
    """The ranked suggestions of the window (``team``: only that team's workloads).
    ``source``/``workloads``: the tables with (cluster, cost_kind) and the workload keys
    (a rollup of the snapshot, or ``allocation``)."""
    scope = "team = $team" if team is not None else "TRUE"
    sql = RIGHTSIZING_SQL.format(source=source, workloads=workloads, team=scope)
    params = {**window_params(start, end), "headroom": headroom, "month": HOURS_PER_MONTH,
              "min_saving": MIN_SAVING, **({"team": team} if team is not None else {})}
    return query(sql, params)


def summary(frame: pl.DataFrame) -> dict[str, Any]:
    """Totals of ``rightsizing``'s frame: workloads, money a month, its one currency."""
    currencies = sorted({c for c in frame["currency"].to_list() if c}) if frame.height else []
    return {"workload_count": frame.height, "currency": currencies[0] if currencies else None,
            "monthly_saving": round(float(frame["monthly_saving"].sum()), 2)
            if frame.height else 0.0,
            "cpu_saving": round(float(frame["cpu_saving"].sum()), 2) if frame.height else 0.0,
            "memory_saving": round(float(frame["memory_saving"].sum()), 2)
            if frame.height else 0.0}
