"""Step 4: idle cost (node cost no pod claimed) by policy.

``separate`` (default): idle stays its own row (cost_kind ``idle``), owned by the cluster's
configured owner (``ownership.cluster_owners``, rule ``cluster-owner``), else unowned
``idle-capacity``. ``share-by-cost``: each resource's idle goes to the workloads in the
cluster in proportion to their cost of that resource (OpenCost's shareIdle, but per cluster).
``share-by-request``: in proportion to their requested resource-hours. ``share-by-quota``: in
proportion to the namespaces' ResourceQuota (reserved headroom is what idle is). Idle nobody
can take (no weights for that resource, or a node without capacity figures) stays separate.
Shared idle rows keep cost_kind ``idle`` and say ``shared_from = 'idle'``.
"""

from __future__ import annotations

import polars as pl

from finops.allocation.nodes import RESOURCES
from finops.allocation.pods import quota_hard
from finops.allocation.rows import concat_rows
from finops.allocation.shared import RECIPIENT, spread
from models.config import FinOpsConfig


def separate(idle: pl.DataFrame, config: FinOpsConfig) -> pl.DataFrame:
    owners = config.ownership.cluster_owners
    owner = pl.col("cluster").replace_strict(owners, default=None, return_dtype=pl.String)
    return idle.with_columns(
        pl.lit("idle").alias("cost_kind"),
        owner.alias("team"),
        pl.when(owner.is_not_null()).then(pl.lit("cluster-owner")).alias("owner_rule"),
        pl.when(owner.is_null()).then(pl.lit("idle-capacity")).alias("unowned_reason"),
    )


def quota_weights(quotas: pl.DataFrame) -> pl.DataFrame:
    """Per (cluster, namespace, resource): quota hard summed over the day's hours (GiB for
    memory; several quota objects in one namespace: the tightest applies each hour)."""
    long = quota_hard(quotas).unpivot(index=["cluster", "namespace", "hour"],
                                      on=[f"_Q_{r}" for r in RESOURCES],
                                      variable_name="resource", value_name="_hard")
    long = long.with_columns(pl.col("resource").str.slice(3)).drop_nulls("_hard")
    return long.group_by("cluster", "namespace", "resource").agg(
        pl.col("_hard").sum().alias("_w")).collect()


def apply_idle_policy(idle: pl.DataFrame, direct: pl.DataFrame, usage: pl.DataFrame,
                      quota_owners: pl.DataFrame, config: FinOpsConfig) -> pl.DataFrame:
    """Idle rows (with ``resource``) -> rows under the configured policy.

    ``direct``: resolved pod rows (cost_kind = resource); ``usage``: resolved workload groups
    with request-hours ``_q_cpu/_q_ram/_q_gpu``; ``quota_owners``: resolved namespaces with
    quota weights per ``resource``.
    """
    policy = config.allocation.idle
    if policy == "separate" or not idle.height:
        return separate(idle, config)
    if policy == "share-by-cost":
        recipients = direct.filter(pl.col("cost_kind").is_in(["cpu", "ram", "gpu"])).select(
            "cluster", *RECIPIENT, pl.col("cost_kind").alias("resource"),
            pl.col("effective_cost").alias("_w"))
    elif policy == "share-by-request":
        recipients = pl.concat([
            usage.select("cluster", *RECIPIENT, pl.lit(r).alias("resource"),
                         pl.col(f"_q_{r}").alias("_w"))
            for r in ("cpu", "ram", "gpu")])
    else:
        recipients = quota_owners
    sources = idle.with_columns(pl.lit("idle").alias("shared_from"))
    out, left = spread(sources, recipients, kind="idle", on=["resource"])
    return concat_rows([out, separate(left.with_columns(pl.lit(None, pl.String)
                                                        .alias("shared_from")), config)])
