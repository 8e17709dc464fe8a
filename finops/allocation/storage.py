"""Step 6 of the issue: persistent volumes, load balancers and cluster network.

Volumes: a disk's bill line (matched by volume ID) is spread over the hours the volume
existed that day (by size x running seconds), and each hour's share is split evenly between
the pods that mounted it then (OpenCost's overlap rule). Hours with no mounting pod go to the
claim's namespace; a volume with no claim has no owner and is spread as shared cost
(``volume:<id>``). Volumes with no bill line that day are estimated at the configured
storage price (price_source ``configured``).
Load balancers: the line is split between the services behind it by their hours (route.py),
then charged to the service's namespace (workload ``Service/<name>``, service labels act as
workload labels); one with no namespace is spread as ``load_balancer:<id>``.
Network billed to a cluster is spread by the pods' ``network_bytes``; without traffic data it
is shared cost (``network``).
"""

from __future__ import annotations

import polars as pl

from finops.allocation.inputs import MONEY
from finops.allocation.nodes import GIB
from finops.allocation.ownership import NS_VALUES, namespace_values
from finops.allocation.pod_keys import PodFrame
from finops.allocation.rows import map_value
from models.config import FinOpsConfig

ACCOUNT = ["provider", "billing_account_id", "sub_account_id", "resource_id", "price_source"]
VOLUME = ["cluster", "volume_name"]
GROUP = ["namespace", "workload_kind", "workload_name", "pod_value", "workload_value", "hour"]
OWNED = [*GROUP[:-1], *NS_VALUES]  # what a storage/LB row of the day is grouped by


def _volume_pools(volumes: pl.DataFrame, lines: pl.DataFrame,
                  config: FinOpsConfig) -> pl.DataFrame:
    billed = lines.with_columns(pl.lit("bill").alias("price_source")).group_by(
        ["cluster", "volume_name", *ACCOUNT]).agg([pl.col(m).sum() for m in MONEY])
    price = config.allocation.prices.storage_gib_hour
    unbilled = volumes.join(billed.select(VOLUME).unique(), on=VOLUME, how="anti")
    if price <= 0 or not unbilled.height:
        return billed
    cost = (pl.col("size_bytes").fill_null(0) / GIB * price
            * pl.col("running_seconds").fill_null(3600) / 3600).sum()
    est = unbilled.group_by(VOLUME).agg(cost.alias("effective_cost"),
                                               pl.col("volume_id").first().alias("resource_id"))
    est = est.with_columns(pl.col("effective_cost").alias("list_cost"),
                           pl.lit(0.0).alias("billed_cost"),
                           pl.lit("configured").alias("price_source"),
                           *[pl.lit(None, pl.String).alias(c) for c in ACCOUNT[:3]])
    return pl.concat([billed, est.select(billed.columns)])


def volume_rows(volumes: pl.DataFrame, lines: pl.DataFrame, pods: PodFrame,
                namespaces: pl.DataFrame, config: FinOpsConfig) -> pl.DataFrame:
    """Storage rows of the day with ownership inputs (namespace null = a disk nobody
    claims)."""
    pools = _volume_pools(volumes, lines, config)
    if not pools.height:
        return pl.DataFrame()
    weight = pl.col("size_bytes").fill_null(0) * pl.col("running_seconds").fill_null(3600)
    total = weight.sum().over(VOLUME)
    vols = volumes.with_columns(
        pl.when(total > 0).then(weight / total).otherwise(1.0 / pl.len().over(VOLUME))
        .alias("_h"))
    vols = vols.with_columns(pl.col("mounting_pods").fill_null([])).with_columns(
        pl.col("mounting_pods").list.len().alias("_n"))
    mounted = vols.filter(pl.col("_n") > 0).explode("mounting_pods", empty_as_null=True)
    mounted = mounted.with_columns(
        (pl.col("_h") / pl.col("_n")).alias("_h"), pl.col("mounting_pods").alias("pod"))
    mounted = mounted.with_columns(POD_ID).join(_mounting_pods(mounted, pods),
                                                on=["_pid", "hour"], how="left")
    unmounted = vols.filter(pl.col("_n") == 0)
    pieces = pl.concat([mounted.select(*VOLUME, *GROUP, "_h"),
                        unmounted.select(*VOLUME, pl.col("namespace"),
                                         *[pl.lit(None, pl.String).alias(c) for c in GROUP[1:5]],
                                         "hour", "_h")])
    return _money(namespace_values(pieces, namespaces, config), pools, VOLUME, "storage")


# A pod's name in its namespace and cluster as one integer, so mounts join pod keys on it.
POD_ID = pl.struct("cluster", "namespace", "pod").hash().alias("_pid")


def _mounting_pods(mounted: pl.DataFrame, pods: PodFrame) -> pl.DataFrame:
    """Workload and team values of each mounting (pod, hour), keyed (``_pid``, ``hour``):
    the pod's key at that hour (a pod has several keys in a day when its labels changed)."""
    wanted = mounted.select(POD_ID, "hour").unique()
    keys = pods.attrs.select("_pk", POD_ID, *GROUP[1:5])
    candidates = wanted.join(keys.select("_pk", "_pid"), on="_pid")
    # Only the candidates' pod-hours are joined (an integer filter first, not a 2-key probe).
    facts = pods.facts.select("_pk", "hour")
    present = facts.filter(pl.col("_pk").is_in(candidates.get_column("_pk").unique().implode())
                           ).join(candidates, on=["_pk", "hour"])
    at_hour = present.unique(["_pid", "hour"])
    return at_hour.join(keys.drop("_pid"), on="_pk").drop("_pk")


def _money(pieces: pl.DataFrame, pools: pl.DataFrame, on: list[str], kind: str) -> pl.DataFrame:
    """Pools split by the pieces' shares ``_h``, summed over the day's hours: the namespace
    values of each hour are already on the pieces, so the hour can go."""
    grouped = pieces.group_by(*on, *OWNED).agg(pl.col("_h").sum())
    joined = grouped.join(pools, on=on, how="inner")
    return joined.with_columns([(pl.col(m) * pl.col("_h")).alias(m) for m in MONEY]).with_columns(
        pl.lit(kind).alias("cost_kind")).drop("_h", on[1:])


def lb_rows(lbs: pl.DataFrame, lines: pl.DataFrame, namespaces: pl.DataFrame,
            config: FinOpsConfig) -> pl.DataFrame:
    """Load balancer rows per service, spread over the service's hours that day."""
    if not lines.height:
        return pl.DataFrame()
    pools = lines.with_columns(pl.lit("bill").alias("price_source")).group_by(
        ["cluster", "namespace", "service", *ACCOUNT]).agg([pl.col(m).sum() for m in MONEY])
    run = pl.col("running_seconds").fill_null(3600)
    service = ["cluster", "namespace", "service"]
    total = run.sum().over(service)
    hours = lbs.with_columns(
        pl.when(total > 0).then(run / total).otherwise(1.0 / pl.len().over(service))
        .alias("_h"),
        pl.lit("Service").alias("workload_kind"), pl.col("service").alias("workload_name"),
        pl.lit(None, pl.String).alias("pod_value"),
        map_value("labels", config.ownership.label_keys).alias("workload_value"))
    pieces = namespace_values(hours.select("cluster", "service", *GROUP, "_h"), namespaces,
                              config)
    pools = pools.with_columns(pl.col("namespace").alias("_pool_ns"))
    out = _money(pieces, pools.drop("namespace"), ["cluster", "service"], "load_balancer")
    return out.filter(pl.col("namespace").eq_missing(pl.col("_pool_ns"))).drop("_pool_ns")


def with_namespace_values(rows: pl.DataFrame, namespaces: pl.DataFrame,
                          config: FinOpsConfig) -> pl.DataFrame:
    """Add namespace label values as of each row's hour, then drop the hour."""
    if not rows.height:
        return rows
    return namespace_values(rows, namespaces, config).drop("hour")
