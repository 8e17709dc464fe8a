"""The engine: ``allocate(inputs, config, run_id) -> AllocationResult``.

Work is cut into partitions: one per (cluster, day) plus one non-cluster partition per day
(cloud spend, taxes, credits, commitments), then one day-level pass (taxes and credits that
follow spend). Partitions share nothing but the day's bill routing, so they can run in a
process pool or a distributed engine; the union of partition runs is the whole-window run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from finops.allocation.cloud import cloud_rows, finalize_day
from finops.allocation.cluster import allocate_cluster_day
from finops.allocation.frames import collapse, concat_rows
from finops.allocation.inputs import AllocationInputs
from finops.allocation.reconcile import reconcile
from finops.allocation.route import Routed, route_day
from models.config import FinOpsConfig
from models.schemas import ALLOCATION

CLOUD = None  # partition key of the non-cluster partition


@dataclass(frozen=True)
class AllocationResult:
    allocation: pl.DataFrame  # ALLOCATION schema
    reconciliation: pl.DataFrame  # day, billing_account_id, billed/allocated, difference


@dataclass(frozen=True)
class Partition:
    day: date
    cluster: str | None  # None: the day's non-cluster partition
    inputs: AllocationInputs
    routed: Routed

    def run(self, config: FinOpsConfig) -> pl.DataFrame:
        if self.cluster is None:
            return cloud_rows(self.routed.cloud, config).with_columns(pl.lit(self.day).alias("day"))
        return allocate_cluster_day(self.inputs, self.routed, config, self.day, self.cluster)


def partitions(day_inputs: AllocationInputs, config: FinOpsConfig, day: date) -> list[Partition]:
    """The partitions of one day: each cluster seen in usage or bill, then the cloud one."""
    routed = route_day(day_inputs.bill, day_inputs.nodes, day_inputs.volumes, day_inputs.lbs,
                       config)
    clusters = routed.clusters()
    for frame in (day_inputs.nodes, day_inputs.pods, day_inputs.volumes, day_inputs.lbs):
        clusters |= set(frame.get_column("cluster").drop_nulls().to_list())
    parts = [Partition(day, c, day_inputs.for_cluster(c), routed.for_cluster(c))
             for c in sorted(clusters)]
    return [*parts, Partition(day, CLOUD, day_inputs, routed)]


def allocate_day(day_inputs: AllocationInputs, config: FinOpsConfig, day: date,
                 on_partition: Callable[[Partition], None] | None = None) -> pl.DataFrame:
    """Rows of one day (ROW schema, collapsed to the output grain)."""
    rows = []
    for part in partitions(day_inputs, config, day):
        rows.append(part.run(config))
        if on_partition:
            on_partition(part)
    return collapse(finalize_day(concat_rows(rows), config))


def finish(rows: pl.DataFrame, run_id: str) -> pl.DataFrame:
    return rows.with_columns(pl.lit(run_id).alias("run_id")).select(ALLOCATION.columns).cast(
        dict(ALLOCATION.schema.items()))


def allocate(inputs: AllocationInputs, config: FinOpsConfig, run_id: str) -> AllocationResult:
    """Allocate every day the inputs cover; reconcile against the bill."""
    days = [allocate_day(inputs.for_day(d), config, d) for d in inputs.days()]
    allocation = finish(concat_rows(days), run_id)
    return AllocationResult(allocation, reconcile(inputs.bill, allocation))
