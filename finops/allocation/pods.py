"""Step 3 (and the idle remainder of step 4): pod cost as a fraction of its node's day.

Per node-hour and resource r, with C_r the node's cost of r that hour:
  pod cost_r = C_r x pod resource-hours_r / node capacity resource-hours_r
where pod resource-hours = allocated x running seconds / 3600 and allocated is
max(request, usage) (basis ``max``), the request, or the usage. Basis ``quota`` charges pods
like ``max`` for now; charging a namespace's unused quota headroom is done by the idle policy
``share-by-quota`` (see idle.py), not yet by the basis itself.
When pods claim more than the node has,
all of them are scaled by capacity / claimed, so the node's cost is never exceeded; the
rest of C_r is idle (never negative).

Everything here is a *fraction of the node-day pool*: pieces of one node-day sum to 1,
so multiplying by the pool's money (bill or estimate) conserves it exactly.
"""

from __future__ import annotations

import polars as pl

from finops.allocation.nodes import GIB, RESOURCES
from models.config import FinOpsConfig

POD_GROUP = ["cluster", "node", "namespace", "workload_kind", "workload_name", "pod_value",
             "workload_value", "ns_label_value", "ns_annotation_value"]


def _amounts(basis: str) -> list[pl.Expr]:
    """Allocated amount and request per resource (cores, GiB, GPUs) for one pod-hour."""
    pairs = {
        "cpu": (pl.col("cpu_request"), pl.col("cpu_usage")),
        "ram": (pl.col("memory_request") / GIB, pl.col("memory_usage") / GIB),
        "gpu": (pl.col("gpu_request"), pl.col("gpu_request")),
    }
    out = []
    for resource, (request, usage) in pairs.items():
        request = request.fill_nan(None)
        usage = usage.fill_nan(None)
        if basis == "request":
            alloc = request.fill_null(0)
        elif basis == "usage":
            alloc = usage.fill_null(0)
        else:  # max and quota: max(request, usage), either side alone when the other is missing
            alloc = pl.max_horizontal(request, usage).fill_null(0)
        run = pl.col("running_seconds").fill_null(3600.0).clip(0, 3600.0) / 3600
        out.append((alloc.clip(0) * run).alias(f"_a_{resource}"))
        out.append((request.fill_null(0).clip(0) * run).alias(f"_q_{resource}"))
    return out


def pod_fractions(pods: pl.DataFrame, hours: pl.DataFrame, config: FinOpsConfig) -> pl.DataFrame:
    """Pod-hour rows with ``_f_r`` (fraction of the node-day pool) and ``_q_r`` (request-hours)."""
    node_cols = ["cluster", "node", "hour", "_h"] + [f"_{x}_{r}" for x in ("rh", "s")
                                                     for r in RESOURCES]
    joined = pods.with_columns(_amounts(config.allocation.basis)).join(
        hours.select(node_cols), on=["cluster", "node", "hour"], how="inner")
    fracs = []
    for r in RESOURCES:
        claimed = pl.col(f"_a_{r}").sum().over("cluster", "node", "hour")
        capacity = pl.col(f"_rh_{r}")
        scale = pl.when(claimed > capacity).then(capacity / claimed).otherwise(1.0)
        share = pl.when(pl.col(f"_rh_{r}") > 0).then(
            pl.col(f"_a_{r}") * scale / pl.col(f"_rh_{r}")).otherwise(0.0)
        fracs.append((pl.col("_h") * pl.col(f"_s_{r}") * share).alias(f"_f_{r}"))
    return joined.with_columns(fracs)


def idle_fractions(fractions: pl.DataFrame, hours: pl.DataFrame) -> pl.DataFrame:
    """Per node and resource: the node-day fraction no pod claimed (>= 0 by the scaling)."""
    used = fractions.group_by("cluster", "node", "hour").agg(
        [pl.col(f"_f_{r}").sum() for r in RESOURCES])
    per_hour = hours.join(used, on=["cluster", "node", "hour"], how="left")
    exprs = [(pl.col("_h") * pl.col(f"_s_{r}") - pl.col(f"_f_{r}").fill_null(0)).clip(0)
             .alias(r) for r in RESOURCES]
    # A node with no capacity figures has no split: the whole hour is idle "unsplit" cost.
    unsplit = pl.when(pl.sum_horizontal([f"_s_{r}" for r in RESOURCES]) <= 0).then(
        pl.col("_h")).otherwise(0.0).alias("unsplit")
    long = per_hour.select("cluster", "node", *exprs, unsplit)
    long = long.unpivot(index=["cluster", "node"], variable_name="resource", value_name="_f")
    return long.group_by("cluster", "node", "resource").agg(pl.col("_f").sum()).filter(
        pl.col("_f") > 0)


def pod_pieces(fractions: pl.DataFrame) -> pl.DataFrame:
    """Pod fractions summed to (node, workload, ownership inputs, resource)."""
    aggs = [pl.col(f"_{x}_{r}").sum() for x in ("f", "q") for r in RESOURCES]
    grouped = fractions.group_by(POD_GROUP).agg(aggs)
    parts = [grouped.select(*POD_GROUP, pl.lit(r).alias("resource"), pl.col(f"_f_{r}").alias("_f"),
                            pl.col(f"_q_{r}").alias("_req")) for r in RESOURCES]
    long = pl.concat(parts)
    return long.filter((pl.col("_f") > 0) | (pl.col("_req") > 0))
