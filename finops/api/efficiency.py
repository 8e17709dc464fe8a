"""The efficiency reads: node pools' capacity, requests, usage and idle money per day (from
``rollup_node_pool_daily``), and the right-sizing suggestions (``finops.reports.savings``) on
the request's snapshot. Repeated requests are answered from the response cache (per
snapshot generation), so nothing here keeps results of its own."""

from __future__ import annotations

import polars as pl

from finops.api.reader import SnapshotReader
from finops.reports import savings
from models.api import Window

NODE_POOLS = "rollup_node_pool_daily"
WORKLOAD_KEYS = {"team", "cluster", "namespace", "workload_kind", "workload_name"}


def node_pools(reader: SnapshotReader, window: Window) -> pl.DataFrame:
    """day, cluster, node_pool and the rollup's measures in the window (none without it)."""
    if "node_pool" not in reader.columns(NODE_POOLS):
        return pl.DataFrame()
    return reader.frame(f"SELECT * FROM {NODE_POOLS} WHERE day BETWEEN $start AND $end "
                        "ORDER BY day, cluster, node_pool",
                        {"start": window.start, "end": window.end})


def pool_totals(frame: pl.DataFrame) -> pl.DataFrame:
    """Per (cluster, node pool) over the window: the sums, and the used / requested shares of
    allocatable capacity (Kubecost's efficiency figures)."""
    if not frame.height:
        return frame
    measures = [c for c in frame.columns if c not in ("day", "cluster", "node_pool", "nodes")]
    return (frame.with_columns(pl.col("node_pool").fill_null("(no pool label)"))
            .group_by("cluster", "node_pool")
            .agg(pl.col("nodes").max(), *(pl.col(c).sum() for c in measures))
            .sort("idle_effective_cost", "cluster", "node_pool",
                  descending=[True, False, False]))


def rightsizing(reader: SnapshotReader, window: Window, team: str | None) -> pl.DataFrame:
    """The ranked suggestions of the window; ``team``: only that team's workloads."""
    return savings.rightsizing(reader.frame, window.start, window.end, team=team,
                               source=reader.source({"cluster", "cost_kind"}),
                               workloads=reader.source(WORKLOAD_KEYS))
