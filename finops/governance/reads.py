"""What governance reads from a published snapshot, aggregated in DuckDB (frames out).

Every function takes a read-only connection (a cursor of the API's snapshot generation, or
the CLI's snapshot connection) and a window of days; values are bound, never formatted.
Money is ``effective_cost`` (amortized), as everywhere in finops.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import duckdb
import polars as pl

from models.api import Window
from models.config import Budget
from models.errors import ConfigError
from models.schemas import ALLOCATION, BACKSTAGE_ENTITY

DIRECT_KINDS = ("cpu", "ram", "gpu", "storage", "network", "load_balancer")
LABEL_RULES = ("pod-label", "workload-label", "namespace-label", "tag")
LABEL_REASONS = ("no-team-label", "unknown-team", "untagged-resource")
GIB = 1024.0**3


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pl.DataFrame:
    return con.sql(sql, params=params).pl()


def _days(window: Window) -> dict[str, Any]:
    return {"start": window.start, "end": window.end}


def _hours(window: Window) -> dict[str, Any]:
    """The window as [since, until) timestamps, for the hourly tables."""
    since = datetime.combine(window.start, time())
    return {"since": since, "until": datetime.combine(window.end, time()) + timedelta(days=1)}


def has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    found = con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = ? AND "
                        "column_name = ?", [table, column]).fetchall()
    return bool(found[0][0])


def currency(con: duckdb.DuckDBPyConnection) -> str | None:
    """The currency allocated money is in: ``allocation.currency`` once the warehouse has it
    (the reporting currency), else the bill's ``billing_currency``; several are joined."""
    if has_column(con, "allocation", "currency"):
        sql = "SELECT DISTINCT currency FROM allocation WHERE currency IS NOT NULL"
    else:
        sql = "SELECT DISTINCT billing_currency FROM cost_line WHERE billing_currency IS NOT NULL"
    values = sorted(str(row[0]) for row in con.execute(sql).fetchall())
    return ", ".join(values) or None


def namespaces(con: duckdb.DuckDBPyConnection, window: Window) -> pl.DataFrame:
    """cluster, namespace, labels, annotations: each namespace that existed in the window
    (as its last version there), and namespaces seen only in pod usage (no labels)."""
    return frame(con, """
        WITH versions AS (
            SELECT cluster, namespace, arg_max(labels, valid_from) AS labels,
                   arg_max(annotations, valid_from) AS annotations
            FROM k8s_namespace
            WHERE valid_from < $until AND (valid_to IS NULL OR valid_to >= $since)
            GROUP BY ALL
        ), seen AS (
            SELECT DISTINCT cluster, namespace FROM k8s_pod_hour
            WHERE hour >= $since AND hour < $until
        )
        SELECT cluster, namespace, v.labels, v.annotations
        FROM seen FULL OUTER JOIN versions AS v USING (cluster, namespace)
        ORDER BY cluster, namespace""", _hours(window))


def quotas(con: duckdb.DuckDBPyConnection, window: Window) -> pl.DataFrame:
    """cluster, namespace, quota, resource, hard: each quota's last hard limit in the window."""
    return frame(con, """
        SELECT cluster, namespace, quota, resource, arg_max(hard, hour) AS hard
        FROM k8s_quota_hour WHERE hour >= $since AND hour < $until
        GROUP BY ALL ORDER BY ALL""", _hours(window))


def namespace_spend(con: duckdb.DuckDBPyConnection, window: Window) -> pl.DataFrame:
    """cluster, namespace, team, cost: everything charged to a namespace (shared spreads
    and idle shares included), per owner (null: unowned)."""
    return frame(con, """
        SELECT cluster, namespace, team, sum(effective_cost) AS cost FROM allocation
        WHERE day BETWEEN $start AND $end AND namespace IS NOT NULL
        GROUP BY ALL ORDER BY ALL""", _days(window))


def team_spend(con: duckdb.DuckDBPyConnection, window: Window) -> pl.DataFrame:
    """team, cost: what each team owns in the window."""
    return frame(con, """
        SELECT team, sum(effective_cost) AS cost FROM allocation
        WHERE day BETWEEN $start AND $end AND team IS NOT NULL
        GROUP BY ALL ORDER BY team""", _days(window))


def _basis_amount(resource: str, basis: str) -> str:
    """A pod's allocated amount of ``resource`` per hour, as the engine's ``basis`` counts it
    (``quota`` allocates by request inside the namespace)."""
    request, usage = f"coalesce({resource}_request, 0)", f"coalesce({resource}_usage, 0)"
    if resource == "gpu" or basis in ("request", "quota"):
        return request
    return usage if basis == "usage" else f"greatest({request}, {usage})"


def resource_hours(con: duckdb.DuckDBPyConnection, window: Window, basis: str) -> pl.DataFrame:
    """cluster, namespace, cpu_hours, ram_gib_hours, gpu_hours allocated to pods."""
    share = "running_seconds / 3600.0"
    return frame(con, f"""
        SELECT cluster, namespace,
               sum({_basis_amount('cpu', basis)} * {share}) AS cpu_hours,
               sum({_basis_amount('memory', basis)} * {share}) / {GIB} AS ram_gib_hours,
               sum({_basis_amount('gpu', basis)} * {share}) AS gpu_hours
        FROM k8s_pod_hour WHERE hour >= $since AND hour < $until
        GROUP BY ALL ORDER BY ALL""", _hours(window))


def resource_cost(con: duckdb.DuckDBPyConnection, window: Window) -> pl.DataFrame:
    """cluster, namespace, cpu_cost, ram_cost, gpu_cost: pods' direct compute cost."""
    return frame(con, """
        SELECT cluster, namespace,
               coalesce(sum(effective_cost) FILTER (WHERE cost_kind = 'cpu'), 0) AS cpu_cost,
               coalesce(sum(effective_cost) FILTER (WHERE cost_kind = 'ram'), 0) AS ram_cost,
               coalesce(sum(effective_cost) FILTER (WHERE cost_kind = 'gpu'), 0) AS gpu_cost
        FROM allocation
        WHERE day BETWEEN $start AND $end AND namespace IS NOT NULL AND shared_from IS NULL
          AND cost_kind IN ('cpu', 'ram', 'gpu')
        GROUP BY ALL ORDER BY ALL""", _days(window))


def label_breakers(con: duckdb.DuckDBPyConnection, window: Window) -> pl.DataFrame:
    """Spend no label claimed, by what carries it: a workload (or a namespace's own rows)
    in a cluster, or a cloud resource."""
    return frame(con, f"""
        SELECT unowned_reason AS reason, cluster, namespace, workload_kind, workload_name,
               provider, sub_account_id, service_name, resource_id,
               sum(effective_cost) AS cost
        FROM allocation
        WHERE day BETWEEN $start AND $end AND team IS NULL
          AND unowned_reason IN {LABEL_REASONS}
        GROUP BY ALL ORDER BY cost DESC, cluster, namespace, workload_name, resource_id""",
                 _days(window))


def coverage(con: duckdb.DuckDBPyConnection, window: Window) -> pl.DataFrame:
    """day, cluster, team, cost, labelled: direct Kubernetes and cloud spend per day, cluster
    (``cloud:<provider>`` outside Kubernetes) and owner, and how much of it a label or tag
    claimed (the rest: a mapping, an annotation, the catalog, or nobody)."""
    return frame(con, f"""
        SELECT day, coalesce(cluster, 'cloud:' || provider) AS cluster, team,
               sum(effective_cost) AS cost,
               coalesce(sum(effective_cost) FILTER (WHERE owner_rule IN {LABEL_RULES}), 0)
                   AS labelled
        FROM allocation
        WHERE day BETWEEN $start AND $end AND shared_from IS NULL
          AND (cost_kind IN {DIRECT_KINDS} OR (cost_kind = 'cloud' AND cluster IS NULL))
        GROUP BY ALL ORDER BY ALL""", _days(window))


def workloads(con: duckdb.DuckDBPyConnection, window: Window) -> pl.DataFrame:
    """cluster, namespace, workload_name, team, cost: workloads with direct spend (their
    owner: the team with most of it, null when nobody owns it)."""
    return frame(con, f"""
        SELECT cluster, namespace, workload_name, arg_max(team, cost) AS team, sum(cost) AS cost
        FROM (SELECT cluster, namespace, workload_name, team, sum(effective_cost) AS cost
              FROM allocation
              WHERE day BETWEEN $start AND $end AND workload_name IS NOT NULL
                AND shared_from IS NULL AND cost_kind IN {DIRECT_KINDS}
              GROUP BY ALL)
        GROUP BY ALL ORDER BY ALL""", _days(window))


def running(con: duckdb.DuckDBPyConnection, window: Window) -> pl.DataFrame:
    """cluster, namespace, workload_name of every pod that ran in the window."""
    return frame(con, """
        SELECT DISTINCT cluster, namespace, workload_name FROM k8s_pod_hour
        WHERE hour >= $since AND hour < $until AND running_seconds > 0
        ORDER BY ALL""", _hours(window))


def entities(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The Backstage catalog as loaded (``finops ingest backstage``); empty when none is."""
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                        "'backstage_entity'").fetchall()[0][0]
    if not found:
        return pl.DataFrame(schema=BACKSTAGE_ENTITY.schema)
    return frame(con, "SELECT * FROM backstage_entity ORDER BY ref", {})


def budget_spend(con: duckdb.DuckDBPyConnection, budget: Budget, window: Window) -> float:
    """What ``budget``'s scope (team and filters) saw in the window."""
    clauses, params = ["day BETWEEN $start AND $end"], _days(window)
    if budget.team:
        clauses.append("team = $team")
        params["team"] = budget.team
    for i, (column, value) in enumerate(sorted(budget.filter.items())):
        if ALLOCATION.schema.get(column) != pl.String:
            raise ConfigError(f"budget {budget.name}: filter.{column} is not a text column "
                              "of `allocation`")
        clauses.append(f'"{column}" = $f{i}')
        params[f"f{i}"] = value
    row = con.execute(f"SELECT sum(effective_cost) FROM allocation WHERE "
                      f"{' AND '.join(clauses)}", params).fetchall()
    return float(row[0][0] or 0.0)
