"""Step 5: spread a cost over recipients by weight; used for shared namespaces, control-plane
fees, unowned disks and load balancers, network without traffic data, and shared idle.

Spreading stays inside one cluster: sources and recipients are joined on ``cluster``. Each
spread row names its origin in ``shared_from`` so a team sees what it was charged for. Weights
are the recipients' direct cost (``weighted``, OpenCost's default) or equal per namespace
(``even``).
Cost with nobody to spread to stays unowned (``shared-no-tenant``) rather than vanishing.
"""

from __future__ import annotations

import polars as pl

from finops.allocation.inputs import MONEY
from finops.allocation.rows import as_rows, concat_rows, glob_regex
from models.config import FinOpsConfig

RECIPIENT = ["namespace", "workload_kind", "workload_name", "team", "owner_rule",
             "unowned_reason"]
# Shared cost goes to tenant namespaces (and, inside one, to each team that owns part of it):
# one row per origin and (namespace, owner), not per workload, which would be ~7x the rows
# for the same team and namespace totals.
TENANT = ["namespace", "team", "owner_rule", "unowned_reason"]
SOURCE = ["day", "provider", "billing_account_id", "sub_account_id", "cluster", "price_source",
          "shared_from"]
DIRECT_KINDS = ("cpu", "ram", "gpu", "storage", "network", "load_balancer")


def spread(sources: pl.DataFrame, recipients: pl.DataFrame, *, kind: str | None,
           on: list[str] | None = None, grain: list[str] = RECIPIENT,
           ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split each source's money over ``recipients`` (cluster + ``grain`` cols + ``_w``) of
    the same cluster, also joined on ``on``.

    Returns (spread rows, sources that had no recipient with positive weight).
    """
    on = ["cluster", *(on or [])]
    keep = list(dict.fromkeys(SOURCE + on + (["cost_kind"] if kind is None else [])))
    pooled = sources.group_by(keep).agg([pl.col(m).sum() for m in MONEY])
    weights = recipients.filter(pl.col("_w") > 0).group_by(grain + on).agg(pl.col("_w").sum())
    joined = pooled.join(weights, on=on, how="inner", nulls_equal=True)
    total = pl.col("_w").sum().over(keep)
    # share first: money x (w / total) stays exact when weights are tiny (w x money underflows)
    out = joined.with_columns([(pl.col(m) * (pl.col("_w") / total)).alias(m) for m in MONEY])
    if kind is not None:
        out = out.with_columns(pl.lit(kind).alias("cost_kind"))
    left = pooled.join(weights.select(on).unique(), on=on, how="anti", nulls_equal=True)
    if kind is not None:
        left = left.with_columns(pl.lit(kind).alias("cost_kind"))
    return as_rows(out), left


def tenant_weights(direct: pl.DataFrame, config: FinOpsConfig) -> pl.DataFrame:
    """Recipients of shared cost: the owners of namespaces with direct cost (``direct``
    holds no shared namespace's rows), weighted by that cost or even per namespace."""
    tenants = direct.lazy().filter(pl.col("cost_kind").is_in(DIRECT_KINDS)
                                   & pl.col("namespace").is_not_null())
    grouped = tenants.group_by("cluster", *TENANT).agg(
        pl.col("effective_cost").sum().alias("_cost")).collect()
    grouped = grouped.filter(pl.col("_cost") > 0)
    if config.allocation.shared_split == "even":
        weight = 1.0 / pl.len().over("cluster", "namespace")
    else:
        weight = pl.col("_cost")
    return grouped.with_columns(weight.alias("_w")).drop("_cost")


def is_shared_namespace(config: FinOpsConfig) -> pl.Expr:
    patterns = config.allocation.shared_namespaces
    if not patterns:
        return pl.lit(False)
    return pl.col("namespace").str.contains(glob_regex(patterns)).fill_null(False)


def _split_shared(rows: pl.DataFrame, config: FinOpsConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows of shared namespaces, the rest); the patterns are matched once per namespace."""
    if not config.allocation.shared_namespaces:
        return rows.clear(), rows
    names = rows.get_column("namespace").unique().to_frame()
    shared = names.filter(is_shared_namespace(config)).get_column("namespace").implode()
    mask = rows.select(pl.col("namespace").is_in(shared).fill_null(False)).to_series()
    return rows.filter(mask), rows.filter(~mask)


def share_within_cluster(rows: pl.DataFrame, extra_sources: pl.DataFrame,
                         config: FinOpsConfig) -> pl.DataFrame:
    """Spread shared namespaces' rows and ``extra_sources`` (fees, unowned disks/LBs) to
    tenants. ``extra_sources`` must already carry ``shared_from``."""
    shared_ns, rest = _split_shared(rows, config)
    ns_sources = shared_ns.with_columns(
        pl.coalesce("shared_from", pl.lit("namespace:") + pl.col("namespace")).alias("shared_from"))
    sources = concat_rows([ns_sources, extra_sources])
    if not sources.height:
        return rows
    recipients = tenant_weights(rest, config)
    out, left = spread(sources, recipients, kind="shared", grain=TENANT)
    left = left.with_columns(pl.lit(None, pl.String).alias("team"),
                             pl.lit("shared-no-tenant").alias("unowned_reason"))
    return concat_rows([rest, out, left])
