"""The (cluster, day) partitions of one day: nodes, pods, idle, storage, LBs, network, shared.

Pure: a prepared day (usage frames, pods keyed, routed bill lines) in, allocation rows out.
``allocate_clusters`` takes the frames of *any number* of clusters of one day and computes
them in one pass of grouped frame operations: every join, window and group-by is keyed by
``cluster``, so the result is the union of running it once per (cluster, day) partition (the
property tests hold the two together). The money of every routed line (and every estimated
node/volume pool) ends in the rows exactly once: each step splits a pool into fractions that
sum to one.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from finops.allocation import idle as idle_step
from finops.allocation import nodes as node_step
from finops.allocation import pods as pod_step
from finops.allocation import storage
from finops.allocation.inputs import MONEY, AllocationInputs
from finops.allocation.ownership import INPUTS, OWNER, namespace_values, resolve
from finops.allocation.pod_keys import PodFrame
from finops.allocation.prepare import PreparedDay
from finops.allocation.route import Routed
from finops.allocation.rows import concat_rows
from finops.allocation.shared import RECIPIENT, share_within_cluster, spread
from models.config import FinOpsConfig


def _split_nodes(routed: Routed) -> pl.DataFrame:
    """(cluster, node) of nodes whose cost the bill already split per pod."""
    return routed.split.select("cluster", pl.col("_parent_node").alias("node")).drop_nulls(
    ).unique()


def _compute_rows(inputs: AllocationInputs, routed: Routed, pods: PodFrame,
                  fractions: pod_step.Fractions, config: FinOpsConfig,
                  day: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(pod rows with ownership inputs and their owners, idle rows)."""
    billed = node_step.billed_pools(routed.node)
    estimated = node_step.estimated_pools(fractions.hours, billed, inputs.catalog, config, day)
    pools = pl.concat([billed, estimated], how="diagonal_relaxed") if estimated.height else billed
    split = _split_nodes(routed)
    idle = pod_step.idle_hours(fractions).join(split.lazy(), on=["cluster", "node"], how="anti")
    # Pods on nodes the bill split per pod are left out per key, before pieces are grouped.
    unsplit = PodFrame(pods.facts, pods.attrs.join(split, on=["cluster", "node"], how="anti"))
    pieces = pod_step.pod_pieces(fractions, unsplit)
    if config.allocation.basis == "quota" and inputs.quotas.height:
        present = pod_step.present_namespaces(fractions, pods)
        idle, ns_pieces = pod_step.quota_claims(idle, present, inputs.quotas)
        ns_pieces = ns_pieces.join(split, on=["cluster", "node"], how="anti")
        pieces = pl.concat([pieces, _namespace_pieces(ns_pieces, inputs, config)],
                           how="diagonal_relaxed")
    idle_fr = pl.concat([pod_step.idle_fractions(idle),
                         split.with_columns(pl.lit("unsplit").alias("resource"),
                                            pl.lit(1.0).alias("_f"))])
    pod_rows = _priced(pieces, pools).with_columns(pl.col("resource").alias("cost_kind"))
    pod_rows = pod_rows.drop("node", "resource_id")  # workload grain: one row per node is noise
    return pod_rows, _priced(idle_fr, pools)


def _namespace_pieces(pieces: pl.DataFrame, inputs: AllocationInputs,
                      config: FinOpsConfig) -> pl.DataFrame:
    """Quota claims of namespaces with no pod that hour: namespace-level pod pieces."""
    empty = ("workload_kind", "workload_name", "pod_value", "workload_value")
    valued = namespace_values(pieces, inputs.namespaces, config).with_columns(
        pl.lit(None, pl.String).alias(c) for c in empty)
    grouped = valued.group_by(*pod_step.POD_GROUP, "resource").agg(
        pl.col("_f").sum(), pl.lit(0.0).alias("_req"))
    return resolve(grouped, config, inputs.backstage)


def _priced(pieces: pl.DataFrame, pools: pl.DataFrame) -> pl.DataFrame:
    joined = pieces.lazy().join(pools.lazy(), on=["cluster", "node"], how="inner")
    return joined.with_columns([(pl.col(m) * pl.col("_f")).alias(m) for m in MONEY]).drop(
        "_f").collect()


def _split_rows(routed: Routed, pods: PodFrame) -> pl.DataFrame:
    """Bill lines already split per pod: used as given (price_source split-bill)."""
    lines = routed.split
    if not lines.height:
        return pl.DataFrame()
    text = pl.concat_str(["sku_id", "charge_description", "consumed_unit", "pricing_unit"],
                         separator=" ", ignore_nulls=True).str.to_lowercase()
    kind = (pl.when(text.str.contains("gpu")).then(pl.lit("gpu"))
            .when(text.str.contains("mem|ram|gib|gb")).then(pl.lit("ram")).otherwise(pl.lit("cpu")))
    attrs = pods.attrs.select("cluster", "namespace", "pod", "workload_kind", "workload_name",
                              "pod_value", "workload_value").unique(["cluster", "namespace", "pod"])
    rows = lines.with_columns(
        pl.col("x_namespace").alias("namespace"), pl.col("x_pod").alias("pod"),
        kind.alias("cost_kind"), pl.lit("split-bill").alias("price_source"),
        pl.col("charge_period_start").dt.truncate("1h").alias("hour"),
    ).join(attrs, on=["cluster", "namespace", "pod"], how="left")
    return rows.drop("pod")


def allocate_clusters(prepared: PreparedDay, config: FinOpsConfig, day: date) -> pl.DataFrame:
    """All rows of the clusters of one prepared day (cluster-side lines)."""
    inputs, routed, backstage = prepared.inputs, prepared.routed, prepared.inputs.backstage

    def placed(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.lit(day).alias("day")) if frame.height else frame

    # Owners are resolved once per pod key; pod rows and usage carry them from there.
    pods = PodFrame(prepared.pods.facts, resolve(prepared.pods.attrs, config, backstage))
    fractions = pod_step.pod_fractions(pods, prepared.hours, inputs.quotas, config)
    pod_rows, idle_rows = map(placed, _compute_rows(inputs, routed, pods, fractions, config, day))
    ns = inputs.namespaces
    volume = placed(storage.volume_rows(inputs.volumes, routed.volume, pods, ns, config))
    lbs = placed(storage.lb_rows(inputs.lbs, routed.lb, ns, config))
    split = storage.with_namespace_values(placed(_split_rows(routed, pods)), ns, config)
    other_parts = [p for p in (volume, lbs, split) if p.height]
    others = pl.concat(other_parts, how="diagonal_relaxed") if other_parts else pl.DataFrame()
    orphans = pl.DataFrame()
    if others.height:
        orphans = others.filter(pl.col("namespace").is_null())
        others = resolve(others.filter(pl.col("namespace").is_not_null()), config, backstage)
    direct_rows = concat_rows([pod_rows, others])

    usage = _usage(pods, fractions)
    net_rows, net_left = _network(routed, usage)
    owners = (_quota_owners(inputs, config, backstage, day)
              if config.allocation.idle == "share-by-quota" else pl.DataFrame())
    idle_out = idle_step.apply_idle_policy(idle_rows, direct_rows, usage, owners, config)
    extra = concat_rows([_origin(orphans, "resource_id"), _fees(routed), net_left])
    rows = concat_rows([direct_rows, net_rows, idle_out])
    return share_within_cluster(rows, extra, config).with_columns(pl.lit(day).alias("day"))


def _usage(pods: PodFrame, fractions: pod_step.Fractions) -> pl.DataFrame:
    """Owned workload groups with request-hours and traffic (weights for idle and network) of all
    the day's pod-hours: summed per pod key (the fractions' sums when they cover every
    pod-hour), then per group over the keys."""
    sums = [pl.col(c).sum() for c in ("_q_cpu", "_q_ram", "_q_gpu", "_net")]
    if fractions.complete:
        per_key = fractions.per_key.lazy()
    else:
        per_key = pods.facts.lazy().with_columns(
            *pod_step._amounts("request"), pod_step.TRAFFIC).group_by("_pk").agg(sums)
    group = INPUTS[:2] + ["workload_kind", "workload_name", *INPUTS[3:], *OWNER]
    return per_key.join(pods.attrs_of(*group), on="_pk").group_by(group).agg(sums).collect()


def _network(routed: Routed, usage: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    lines = routed.cluster.filter(pl.col("_target") == "network").with_columns(
        pl.lit("bill").alias("price_source"), pl.lit("network").alias("shared_from"),
        pl.lit("network").alias("cost_kind"))
    if not lines.height:
        return pl.DataFrame(), pl.DataFrame()
    recipients = usage.select("cluster", *RECIPIENT, pl.col("_net").alias("_w"))
    lines = lines.with_columns(pl.col("day").cast(pl.Date))
    return spread(concat_rows([lines]), recipients, kind="network")


def _fees(routed: Routed) -> pl.DataFrame:
    fees = routed.cluster.filter(pl.col("_target") == "fee")
    origin = pl.coalesce("service_name", "resource_id", pl.lit("cluster"))
    return concat_rows([fees.with_columns(pl.lit("bill").alias("price_source"),
                                          (pl.lit("fee:") + origin).alias("shared_from"))])


def _origin(orphans: pl.DataFrame, column: str) -> pl.DataFrame:
    if not orphans.height:
        return pl.DataFrame()
    origin = pl.concat_str([pl.col("cost_kind"), pl.lit(":"),
                            pl.col(column).fill_null("unknown")])
    return concat_rows([orphans.with_columns(origin.alias("shared_from"))])


def _quota_owners(inputs: AllocationInputs, config: FinOpsConfig, backstage: pl.DataFrame,
                  day: date) -> pl.DataFrame:
    """Namespaces with quota weights per resource, resolved as of the day's last hour."""
    weights = idle_step.quota_weights(inputs.quotas)
    if not weights.height:
        return pl.DataFrame(schema={"cluster": pl.String, **dict.fromkeys(RECIPIENT, pl.String),
                                    "resource": pl.String, "_w": pl.Float64})
    probe = weights.with_columns(
        pl.lit(day).cast(pl.Datetime("us")).dt.offset_by("23h").alias("hour"),
        *[pl.lit(None, pl.String).alias(c) for c in
          ("workload_kind", "workload_name", "pod_value", "workload_value")])
    probe = namespace_values(probe, inputs.namespaces, config).drop("hour")
    return resolve(probe, config, backstage).select("cluster", *RECIPIENT, "resource", "_w")
