"""Serving rollups: summary tables ``rollup_*`` declared once here, built at every publish.

The API and the dashboards read a rollup whenever a request's grain allows (the chooser is
``finops.api.queries.source``), and the raw ``allocation`` otherwise; the platform team may
query them with SQL like any table (README, "The warehouse contract").

Each rollup is brought up to date by ``build_rollups`` inside the writer, just before the
snapshot is copied (``Warehouse.publish``), in one transaction, incrementally: every load
records the days it replaced in a table a rollup reads (``mark_pending``, called by
``Warehouse`` around each DELETE and INSERT, in the load's transaction), and the publish
computes again only those days of the rollups that read the table, so its cost follows the
days loaded since the last publish, not the history. Days their source no longer holds (raw
usage dropped by a retention policy) keep the rows they had. A rollup is built whole the first
time (``built_rollup`` does not list it: a warehouse from before these records), when its
definition changed, when it has no days (``rollup_quota_coverage``), and on
``build_rollups(full=True)`` (``finops publish --full``: after a change made by SQL, not by a
load). Rows are written sorted by the columns their queries filter on, so DuckDB's zonemaps
(min/max per row group) let a read skip the row groups it does not need; an incremental
publish appends its days sorted the same way (a full build sorts the whole table again).

Money columns are sums of the allocation's; a column the allocation carries beside its keys
for every row (``CARRIED``: the currency, once the allocation has it) is kept as a key of
every allocation rollup, so sums never mix what must not be mixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from models.errors import WarehouseError
from models.loads import DAYS_WHERE

MONEY = ("billed_cost", "effective_cost", "list_cost")
CARRIED = ("currency",)  # grouped by when the allocation has the column
# The tables rollups are computed from, and the day each of their rows counts for.
# A bill line counts for every day its charge period covers, as ``cost_line_daily`` cuts it
# (spans grouped first: a bill is millions of hourly lines). Its days are the compacted
# bill's (``finops.bill_compact``), which the load that marks them consumes.
_HOUR_DAY = "SELECT CAST(hour AS DATE) AS day FROM {rows}"
BILL_DAYS = ("SELECT CAST(unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS DATE) "
             "AS day FROM (SELECT DISTINCT date_trunc('day', charge_period_start) AS first_day, "
             "date_trunc('day', greatest(charge_period_end - INTERVAL 1 MICROSECOND, "
             "charge_period_start)) AS last_day FROM {rows} "
             "WHERE charge_period_start IS NOT NULL)")
SOURCE_DAYS = {"allocation": "SELECT day FROM {rows}", "k8s_node_hour": _HOUR_DAY,
               "k8s_pod_hour": _HOUR_DAY, "k8s_quota_hour": _HOUR_DAY, "cost_line": BILL_DAYS}
PENDING, BUILT = "pending_rollup_day", "built_rollup"  # sql/migrations/0009_rollup_days.sql
# The days a publish rebuilds, on a ``day`` column (``DAYS_WHERE``) and on an ``hour`` column.
HOURS = ("hour >= $first AND hour < $last + INTERVAL 1 DAY "
         "AND list_contains($days, CAST(hour AS DATE))")
EVERY = {"days": "true", "hours": "true"}
SOME = {"days": DAYS_WHERE, "hours": HOURS}
POOL_LABELS = ("eks.amazonaws.com/nodegroup", "cloud.google.com/gke-nodepool",
               "kubernetes.azure.com/agentpool", "karpenter.sh/nodepool")


@dataclass(frozen=True)
class Rollup:
    """One summary table: its name, grain (after ``day``), physical order and source."""

    name: str
    keys: tuple[str, ...]
    order: tuple[str, ...]
    description: str
    where: str = ""  # a filter on allocation rows (the unowned rollup keeps team IS NULL)
    custom: str | None = None  # a SELECT of its own instead of sums over allocation
    view: str | None = None  # a view of the warehouse kept as a table (its rows as they are;
    # computed by ``custom`` when given)
    sources: tuple[str, ...] = ("allocation",)  # the tables it is computed from
    has_days: bool = True  # False: rebuilt whole whenever a source changed

    @property
    def general(self) -> bool:
        """Sums of every allocation row by its keys: any query over its columns may read it
        (not so the unowned rollup, which holds only unowned rows, nor the node pools)."""
        return not self.where and self.custom is None and self.view is None

    def held(self, days: str, hours: str) -> str:
        """The days its (first) source holds among ``days`` (a filter on ``day``; ``hours`` the
        same on ``hour``): those days are rebuilt, the others keep their rows."""
        if self.custom is not None:
            return (f"SELECT DISTINCT CAST(hour AS DATE) AS day FROM {self.sources[0]} "
                    f"WHERE {hours}")
        return f"SELECT DISTINCT day FROM allocation WHERE {days}"


def _pool() -> str:
    labels = ", ".join(f"labels['{key}']" for key in POOL_LABELS)
    return f"coalesce({labels})"


# Capacity from the node-hours, requests and usage from the pod-hours on those nodes, idle
# money from the allocation's idle rows of those nodes; all per (day, cluster, node pool).
NODE_POOL_SQL = f"""
WITH nodes AS (
    SELECT cluster, node, hour::DATE AS day, any_value({_pool()}) AS node_pool,
           sum(running_seconds) / 3600 AS node_hours,
           sum(capacity_cpu * running_seconds) / 3600 AS cpu_capacity_core_hours,
           sum(allocatable_cpu * running_seconds) / 3600 AS cpu_allocatable_core_hours,
           sum(capacity_memory * running_seconds) / 3600 / 2^30 AS memory_capacity_gib_hours,
           sum(allocatable_memory * running_seconds) / 3600 / 2^30
               AS memory_allocatable_gib_hours,
           sum(coalesce(capacity_gpu, 0) * running_seconds) / 3600 AS gpu_capacity_hours
    FROM k8s_node_hour WHERE {{hours}} GROUP BY ALL
),
pods AS (
    SELECT cluster, node, hour::DATE AS day,
           sum(cpu_request * running_seconds) / 3600 AS cpu_requested_core_hours,
           sum(cpu_usage * running_seconds) / 3600 AS cpu_used_core_hours,
           sum(memory_request * running_seconds) / 3600 / 2^30 AS memory_requested_gib_hours,
           sum(memory_usage * running_seconds) / 3600 / 2^30 AS memory_used_gib_hours,
           sum(coalesce(gpu_request, 0) * running_seconds) / 3600 AS gpu_requested_hours
    FROM k8s_pod_hour WHERE {{hours}} GROUP BY ALL
),
idle AS (
    SELECT day, cluster, node, sum(billed_cost) AS idle_billed_cost,
           sum(effective_cost) AS idle_effective_cost, sum(list_cost) AS idle_list_cost
    FROM allocation WHERE cost_kind = 'idle' AND {{days}} AND day IN (SELECT day FROM nodes)
    GROUP BY ALL
)
SELECT day, cluster, n.node_pool, count(DISTINCT node) AS nodes,
       sum(n.node_hours) AS node_hours,
       sum(n.cpu_capacity_core_hours) AS cpu_capacity_core_hours,
       sum(n.cpu_allocatable_core_hours) AS cpu_allocatable_core_hours,
       coalesce(sum(p.cpu_requested_core_hours), 0) AS cpu_requested_core_hours,
       coalesce(sum(p.cpu_used_core_hours), 0) AS cpu_used_core_hours,
       sum(n.memory_capacity_gib_hours) AS memory_capacity_gib_hours,
       sum(n.memory_allocatable_gib_hours) AS memory_allocatable_gib_hours,
       coalesce(sum(p.memory_requested_gib_hours), 0) AS memory_requested_gib_hours,
       coalesce(sum(p.memory_used_gib_hours), 0) AS memory_used_gib_hours,
       sum(n.gpu_capacity_hours) AS gpu_capacity_hours,
       coalesce(sum(p.gpu_requested_hours), 0) AS gpu_requested_hours,
       coalesce(sum(i.idle_billed_cost), 0) AS idle_billed_cost,
       coalesce(sum(i.idle_effective_cost), 0) AS idle_effective_cost,
       coalesce(sum(i.idle_list_cost), 0) AS idle_list_cost
FROM nodes AS n
LEFT JOIN pods AS p USING (cluster, node, day)
FULL OUTER JOIN idle AS i USING (cluster, node, day)
GROUP BY ALL
"""

# The namespaces of the pod-hours per day (``quota_coverage_of`` reads them for its rollup).
POD_NAMESPACE_SQL = """
SELECT CAST(hour AS DATE) AS day, cluster, namespace, sum(running_seconds) / 3600 AS pod_hours
FROM k8s_pod_hour WHERE {hours} GROUP BY ALL
"""

# Declared smallest grain first: the chooser takes the first that has every column a query
# needs.
ROLLUPS: tuple[Rollup, ...] = (
    Rollup("rollup_team_daily", ("team", "unowned_reason", "provider", "cost_kind"),
           ("day", "team"), "spend per day and team (unowned: team NULL, with its reason), "
           "by provider and cost kind"),
    Rollup("rollup_namespace_daily",
           ("team", "unowned_reason", "provider", "cluster", "namespace", "service_name",
            "cost_kind"),
           ("team", "day", "cluster", "namespace"),
           "spend per day, team and namespace (cluster, namespace; outside Kubernetes the "
           "service instead) by cost kind: the grain budgets and anomalies read"),
    Rollup("rollup_service_daily",
           ("team", "unowned_reason", "provider", "billing_account_id", "sub_account_id",
            "service_name", "cost_kind"),
           ("team", "day", "provider", "sub_account_id"),
           "spend per day, cloud account and service, by team and cost kind"),
    Rollup("rollup_workload_daily",
           ("team", "unowned_reason", "provider", "cluster", "namespace", "workload_kind",
            "workload_name"),
           ("team", "day", "cluster", "namespace"),
           "spend per day, team, namespace and workload (shared rows: no workload)"),
    Rollup("rollup_unowned_daily",
           ("unowned_reason", "provider", "billing_account_id", "sub_account_id", "cluster",
            "namespace", "service_name", "resource_id"),
           ("day", "unowned_reason"),
           "spend no team owns, per day, reason and place", where="team IS NULL"),
    Rollup("rollup_node_pool_daily", ("cluster", "node_pool"), ("day", "cluster", "node_pool"),
           "node pools per day: nodes, capacity, allocatable, requested and used (CPU "
           "core-hours, memory GiB-hours, GPU-hours) and the idle money of their nodes",
           custom=NODE_POOL_SQL, sources=("k8s_node_hour", "k8s_pod_hour", "allocation")),
    Rollup("rollup_label_coverage", (), ("day",), "the `label_coverage` view, kept",
           view="label_coverage"),
    Rollup("rollup_pod_namespace_daily", ("cluster", "namespace"), ("day", "cluster", "namespace"),
           "the namespaces that ran pods, per day and cluster, with their `pod_hours`",
           custom=POD_NAMESPACE_SQL, sources=("k8s_pod_hour",)),
    # After the namespaces: computed from them (the same rows as the view, which reads every
    # pod-hour of the history for them).
    Rollup("rollup_quota_coverage", (), ("cluster", "namespace"),
           "the `quota_coverage` view, kept (no days: rebuilt whole)", view="quota_coverage",
           custom="SELECT * FROM quota_coverage_of('rollup_pod_namespace_daily')",
           sources=("k8s_quota_hour", "k8s_pod_hour", "allocation"), has_days=False),
)
BY_NAME = {rollup.name: rollup for rollup in ROLLUPS}


def select_sql(rollup: Rollup, carried: tuple[str, ...], *, some: bool = False) -> str:
    """The SELECT that computes ``rollup`` from its source: every day, or with ``some`` the
    days of ``DAYS_WHERE`` (bound to $first, $last and $days)."""
    where = SOME if some and rollup.has_days else EVERY
    if rollup.custom is not None:
        return rollup.custom.format(**where)
    if rollup.view is not None:
        return f"SELECT * FROM {rollup.view} WHERE {where['days']}"
    keys = ", ".join(f'"{key}"' for key in (*rollup.keys, *carried))
    sums = ", ".join(f'sum("{column}") AS "{column}"' for column in MONEY)
    filters = " AND ".join(f"({w})" for w in (rollup.where, where["days"]) if w)
    return f"SELECT day, {keys}, {sums} FROM allocation WHERE {filters} GROUP BY ALL"


def mark_pending(con: duckdb.DuckDBPyConnection, table: str, where: str,
                 params: dict[str, Any], *, rows: str | None = None) -> None:
    """Record the days of ``table``'s rows in ``where`` as pending for the rollups that read
    the table (``Warehouse`` calls it before a load's DELETE and after its INSERT, in the
    load's transaction: the days it removed and the days it wrote). ``rows``: a relation to
    take them from instead of the table (the rows a load adds outside any partition)."""
    day = SOURCE_DAYS.get(table)
    if day is not None:
        source = f"(SELECT * FROM {rows or table} WHERE {where}) AS _rows"
        con.execute(f"INSERT INTO {PENDING} SELECT DISTINCT day, '{table}' "
                    f"FROM ({day.format(rows=source)})", params)


def build_rollups(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, int]:
    """Bring every rollup up to date in one transaction: the pending days of each (or all of
    it when ``full``, or when it must be built whole); rows per rollup. ``con`` is the
    writer's."""
    carried = tuple(c for c in CARRIED if c in _columns(con, "allocation"))
    rows: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        built = {name for (name,) in con.execute(f"SELECT name FROM {BUILT}").fetchall()}
        for rollup in ROLLUPS:
            whole = full or rollup.name not in built
            rows[rollup.name] = _build(con, rollup, carried, whole=whole)
        con.execute(f"DELETE FROM {PENDING}")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise WarehouseError(f"building the serving rollups failed, nothing was published: "
                             f"{exc}") from None
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return rows


def _build(con: duckdb.DuckDBPyConnection, rollup: Rollup, carried: tuple[str, ...], *,
           whole: bool) -> int:
    fresh = select_sql(rollup, carried)
    same = _columns(con, rollup.name) == _columns_of_query(con, fresh)
    days = pending_days(con, rollup.sources)
    if whole or not same or (not rollup.has_days and days):
        _build_whole(con, rollup, fresh, kept=same)
    elif days:
        _rebuild_days(con, rollup, carried, days)
    row = con.execute(f"SELECT count(*) FROM {rollup.name}").fetchone()
    return int(row[0]) if row else 0


def pending_days(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> list[date]:
    """The days marked pending (``mark_pending``) for any of ``tables``, in order."""
    rows = con.execute(f"SELECT DISTINCT day FROM {PENDING} WHERE list_contains($sources, "
                       "table_name) AND day IS NOT NULL ORDER BY day",
                       {"sources": list(tables)}).fetchall()
    return [day for (day,) in rows]


def _rebuild_days(con: duckdb.DuckDBPyConnection, rollup: Rollup, carried: tuple[str, ...],
                  days: list[date]) -> None:
    """Replace the rows of the pending ``days`` its source holds (the others keep theirs),
    appended in the rollup's order."""
    window = {"first": days[0], "last": days[-1], "days": days}
    held = [day for (day,) in con.execute(rollup.held(**SOME), window).fetchall()]
    if not held:
        return
    window = {"first": min(held), "last": max(held), "days": held}
    order = ", ".join(f'"{column}"' for column in rollup.order)
    con.execute(f"DELETE FROM {rollup.name} WHERE {DAYS_WHERE}", window)
    con.execute(f"INSERT INTO {rollup.name} BY NAME SELECT * FROM "
                f"({select_sql(rollup, carried, some=True)}) ORDER BY {order}", window)


def _build_whole(con: duckdb.DuckDBPyConnection, rollup: Rollup, fresh: str, *,
                 kept: bool) -> None:
    """Every day computed again, sorted; with ``kept`` (same columns as a fresh build) the
    days the source no longer holds keep their rows. Recorded as built."""
    order = ", ".join(f'"{column}"' for column in rollup.order)
    keep = (f"SELECT * FROM {rollup.name} WHERE day NOT IN ({rollup.held(**EVERY)})"
            if kept and rollup.has_days else None)
    source = f"({keep} UNION ALL BY NAME SELECT * FROM ({fresh}))" if keep else f"({fresh})"
    con.execute(f"CREATE OR REPLACE TABLE {rollup.name}__next AS "
                f"SELECT * FROM {source} ORDER BY {order}")
    con.execute(f"DROP TABLE IF EXISTS {rollup.name}")
    con.execute(f"ALTER TABLE {rollup.name}__next RENAME TO {rollup.name}")
    con.execute(f"DELETE FROM {BUILT} WHERE name = $name", {"name": rollup.name})
    con.execute(f"INSERT INTO {BUILT} VALUES ($name, now())", {"name": rollup.name})


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                       "AND schema_name = 'main' ORDER BY column_index", [table]).fetchall()
    return [str(row[0]) for row in rows]


def _columns_of_query(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return list(con.sql(f"SELECT * FROM ({sql}) LIMIT 0").columns)
