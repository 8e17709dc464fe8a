"""Step 0: route each bill line of one day to where its cost is allocated.

Targets, first match wins:
``tax`` / ``credit`` (charge category Tax, Credit, Adjustment) ->
``commitment`` (unused commitment, commitment purchases) ->
``split`` (the bill already split it per pod: x_namespace/x_pod set) ->
``node`` / ``network`` (resource ID is a node of a cluster that day) ->
``volume`` (a persistent volume's disk) -> ``lb`` (a LoadBalancer service) ->
``fee`` / ``network`` (a line tagged with a cluster: control plane, cluster traffic) ->
``cloud`` (everything else: spend outside Kubernetes).
A line that matches several objects (an Azure scale set billed as one resource, a load
balancer behind two services) is split between them by weight; shares sum to one per line.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from finops.allocation.keys import bill_key, bill_lb_key, disk_key, lb_keys, node_keys
from finops.allocation.nodes import node_day_weights
from finops.allocation.rows import map_value, scaled
from models.config import FinOpsConfig

NETWORK_WORDS = r"datatransfer|data transfer|egress|network|inter-?zone|bytes"


@dataclass(frozen=True)
class Routed:
    """One day's bill lines by destination. Money already split where a line matched many."""

    node: pl.DataFrame  # + cluster, node
    split: pl.DataFrame  # + cluster
    volume: pl.DataFrame  # + cluster, volume_name
    lb: pl.DataFrame  # + cluster, namespace, service
    cluster: pl.DataFrame  # + cluster, _target (fee | network)
    cloud: pl.DataFrame  # + _target (cloud | tax | credit | commitment)

    def for_cluster(self, cluster: str) -> Routed:
        def mine(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.filter(pl.col("cluster") == cluster)

        return Routed(mine(self.node), mine(self.split), mine(self.volume), mine(self.lb),
                      mine(self.cluster), self.cloud.clear())

    def clusters(self) -> pl.DataFrame:
        frames = (self.node, self.split, self.volume, self.lb, self.cluster)
        return pl.concat([f.select(pl.col("cluster").cast(pl.String)) for f in frames])


def _category(bill: pl.DataFrame) -> pl.DataFrame:
    cat = pl.col("charge_category").str.to_lowercase()
    status = pl.col("commitment_discount_status").str.to_lowercase()
    target = (
        pl.when(cat == "tax").then(pl.lit("tax"))
        .when(cat.is_in(["credit", "adjustment", "refund"])).then(pl.lit("credit"))
        .when((status == "unused") | (cat == "purchase")).then(pl.lit("commitment"))
    )
    text = pl.concat_str([pl.col("service_category"), pl.col("charge_description"),
                          pl.col("sku_id"), pl.col("x_line_item_type")],
                         separator=" ", ignore_nulls=True).str.to_lowercase()
    network = text.str.contains(NETWORK_WORDS)
    return bill.with_columns(target.alias("_target"), network.alias("_network"),
                             pl.int_range(pl.len()).alias("_line"))


def _split_matches(lines: pl.DataFrame, candidates: pl.DataFrame, key: str) -> pl.DataFrame:
    """Join lines to candidate objects on ``key``; split each line's money by ``_w``."""
    joined = lines.join(candidates, on=key, how="inner")
    total = pl.col("_w").sum().over("_line")
    even = 1.0 / pl.len().over("_line")
    share = pl.when(total > 0).then(pl.col("_w") / total).otherwise(even)
    return joined.with_columns(scaled(share)).drop("_w")


def _with_key(lines: pl.DataFrame, key: pl.Expr, inputs: list[str]) -> pl.DataFrame:
    """``lines`` with ``_key``, worked out once per distinct ``inputs`` (a resource's lines
    repeat its ID) and joined back."""
    distinct = lines.select(inputs).unique().with_columns(key.alias("_key"))
    return lines.join(distinct, on=inputs, how="left", nulls_equal=True)


def _take(lines: pl.DataFrame, matched: pl.DataFrame) -> pl.DataFrame:
    return lines.filter(~pl.col("_line").is_in(matched.get_column("_line").implode()))


def route_day(bill: pl.DataFrame, hours: pl.DataFrame, volumes: pl.DataFrame,
              lbs: pl.DataFrame, config: FinOpsConfig) -> Routed:
    """Route one day's bill against that day's nodes (their ``node_hours``), volumes and load
    balancers."""
    lines = _category(bill)
    special = lines.filter(pl.col("_target").is_not_null())
    rest = lines.filter(pl.col("_target").is_null())

    weights = node_day_weights(hours)
    node_cands = weights.select(
        "cluster", "node", node_keys(pl.col("provider_id")).alias("_key"), "_w"
    ).explode("_key", empty_as_null=True).drop_nulls("_key").unique(["cluster", "node", "_key"])
    cluster_names = set(hours.get_column("cluster").drop_nulls().unique().to_list())

    split = _split_lines(rest, node_cands, cluster_names)
    rest = _take(rest, split)
    keyed = _with_key(rest, bill_key(pl.col("resource_id"), pl.col("provider")),
                      ["resource_id", "provider"])
    node = _split_matches(keyed, node_cands, "_key")
    rest = _take(rest, node)
    volume = _match_volumes(rest, volumes)
    rest = _take(rest, volume)
    lb = _match_lbs(rest, lbs)
    rest = _take(rest, lb)
    cluster = _cluster_lines(rest, cluster_names, config)
    rest = _take(rest, cluster)

    node_compute = node.filter(~pl.col("_network"))
    node_network = node.filter(pl.col("_network")).drop("node").with_columns(
        pl.lit("network").alias("_target"))
    cloud = pl.concat([special, rest.with_columns(pl.lit("cloud").alias("_target"))],
                      how="diagonal_relaxed")
    return Routed(
        node=node_compute, split=split, volume=volume, lb=lb,
        cluster=pl.concat([cluster, node_network], how="diagonal_relaxed"), cloud=cloud,
    )


def _split_lines(lines: pl.DataFrame, node_cands: pl.DataFrame,
                 clusters: set[str]) -> pl.DataFrame:
    """Lines the bill already split per pod; their cluster is x_cluster or the parent node's."""
    split = lines.filter(pl.col("x_namespace").is_not_null() | pl.col("x_pod").is_not_null())
    parent = node_cands.select(
        "_key", pl.col("cluster").alias("_parent_cluster"), pl.col("node").alias("_parent_node")
    ).unique("_key")
    split = split.with_columns(
        bill_key(pl.col("x_split_parent_resource_id"), pl.col("provider")).alias("_key")
    ).join(parent, on="_key", how="left")
    split = split.with_columns(
        pl.coalesce("x_cluster", "_parent_cluster").alias("cluster")
    ).drop("_key", "_parent_cluster")
    return split.filter(pl.col("cluster").is_in(list(clusters)))


def _match_volumes(lines: pl.DataFrame, volumes: pl.DataFrame) -> pl.DataFrame:
    cands = volumes.group_by("cluster", "volume_name", "volume_id").agg(
        (pl.col("size_bytes").fill_null(0) * pl.col("running_seconds").fill_null(3600))
        .sum().alias("_w")
    ).with_columns(disk_key(pl.col("volume_id")).alias("_key")).drop("volume_id")
    keyed = _with_key(lines, disk_key(pl.col("resource_id")), ["resource_id"])
    return _split_matches(keyed, cands.drop_nulls("_key"), "_key").drop("_key")


def _match_lbs(lines: pl.DataFrame, lbs: pl.DataFrame) -> pl.DataFrame:
    cands = lbs.group_by("cluster", "namespace", "service").agg(
        pl.col("running_seconds").fill_null(3600).sum().alias("_w"),
        pl.col("resource_id").drop_nulls().first().alias("_rid"),
        pl.col("ingress").drop_nulls().first().alias("_ing"),
    ).with_columns(lb_keys(pl.col("_rid"), pl.col("_ing")).alias("_key"))
    cands = cands.drop("_rid", "_ing").explode("_key", empty_as_null=True).drop_nulls("_key")
    keyed = _with_key(lines, bill_lb_key(pl.col("resource_id")), ["resource_id"])
    return _split_matches(keyed, cands, "_key").drop("_key")


def _cluster_lines(lines: pl.DataFrame, clusters: set[str], config: FinOpsConfig) -> pl.DataFrame:
    """Lines that name a cluster (x_cluster, a cluster tag, an EKS cluster ARN)."""
    eks = pl.col("resource_id").str.extract(r":cluster/([^/]+)$")
    name = pl.coalesce("x_cluster", map_value("tags", config.allocation.cluster_tag_keys), eks)
    tagged = lines.with_columns(name.alias("cluster")).filter(
        pl.col("cluster").is_in(list(clusters)))
    kind = pl.when(pl.col("_network")).then(pl.lit("network")).otherwise(pl.lit("fee"))
    return tagged.with_columns(kind.alias("_target"))
