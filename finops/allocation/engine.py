"""The engine: ``allocate(inputs, config, run_id) -> AllocationResult``.

Work is cut into partitions: one per (cluster, day) plus one non-cluster partition per day
(cloud spend, taxes, credits, commitments), then one day-level pass (taxes and credits that
follow spend). Partitions share nothing but the day's bill routing, so they can run in a
process pool or a distributed engine; the union of partition runs is the whole-window run.

``allocate_day`` does not loop over them: every cluster step is keyed by ``cluster``, so all
(cluster, day) partitions of a day run as one set of grouped frame operations
(``cluster.allocate_clusters``); ``partitions`` still cuts a day into runnable partitions,
and the property tests hold the union of those equal to the one-pass day.

``allocate_day`` is ``prepare_day`` (route the bill, key the pods, price nothing yet) then
``allocate_prepared``: the runner calls the first on its reading thread, so one day is
prepared while the engine allocates the day before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from finops.allocation.cloud import cloud_rows, finalize_day
from finops.allocation.cluster import allocate_clusters
from finops.allocation.frames import collapse, concat_rows
from finops.allocation.inputs import AllocationInputs, compact_bill
from finops.allocation.nodes import node_hours
from finops.allocation.pod_keys import PodFrame, key_pods
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
    inputs: AllocationInputs | None = field(default=None, repr=False)
    routed: Routed | None = field(default=None, repr=False)

    def run(self, config: FinOpsConfig) -> pl.DataFrame:
        assert self.inputs is not None and self.routed is not None, "a key, not a partition"
        if self.cluster is None:
            return cloud_rows(self.routed.cloud, config).with_columns(pl.lit(self.day).alias("day"))
        return allocate_clusters(self.inputs, self.routed, config, self.day)


def _route(day_inputs: AllocationInputs, config: FinOpsConfig,
           hours: pl.DataFrame | None = None) -> Routed:
    bill = day_inputs.bill if day_inputs.bill_is_compact else compact_bill(day_inputs.bill)
    return route_day(bill, day_inputs.nodes, day_inputs.volumes, day_inputs.lbs, config, hours)


def _clusters(day_inputs: AllocationInputs, routed: Routed) -> list[str]:
    """Every cluster seen in usage or in the routed bill that day."""
    frames = (day_inputs.nodes, day_inputs.pods, day_inputs.volumes, day_inputs.lbs)
    names = pl.concat([f.select("cluster") for f in frames] + [routed.clusters()])
    return sorted(names.get_column("cluster").drop_nulls().unique().to_list())


def partitions(day_inputs: AllocationInputs, config: FinOpsConfig, day: date) -> list[Partition]:
    """The partitions of one day: each cluster seen in usage or bill, then the cloud one."""
    routed = _route(day_inputs, config)
    parts = [Partition(day, c, day_inputs.for_cluster(c), routed.for_cluster(c))
             for c in _clusters(day_inputs, routed)]
    return [*parts, Partition(day, CLOUD, day_inputs, routed)]


@dataclass(frozen=True)
class PreparedDay:
    """A day's inputs with what depends on them alone: the routed bill, the pods keyed, the
    node-hours, the clusters seen."""

    inputs: AllocationInputs
    routed: Routed
    pods: PodFrame
    hours: pl.DataFrame
    clusters: list[str]


def prepare_day(day_inputs: AllocationInputs, config: FinOpsConfig) -> PreparedDay:
    hours = node_hours(day_inputs.nodes, config)
    routed = _route(day_inputs, config, hours)
    pods = key_pods(day_inputs.pods, day_inputs.namespaces, config)
    return PreparedDay(day_inputs, routed, pods, hours, _clusters(day_inputs, routed))


def allocate_prepared(prepared: PreparedDay, config: FinOpsConfig, day: date,
                      on_partition: Callable[[Partition], None] | None = None) -> pl.DataFrame:
    """Rows of one day (ROW schema, collapsed to the output grain): all clusters in one pass,
    then the cloud partition. ``on_partition`` hears of each (cluster, day) key done."""
    routed = prepared.routed
    k8s = (allocate_clusters(prepared.inputs, routed, config, day, prepared.pods, prepared.hours)
           if prepared.clusters else None)
    cloud = cloud_rows(routed.cloud, config).with_columns(pl.lit(day).alias("day"))
    if on_partition:
        for cluster in [*prepared.clusters, CLOUD]:
            on_partition(Partition(day, cluster))
    rows = concat_rows([r for r in (k8s, cloud) if r is not None])
    return collapse(finalize_day(rows, config))


def allocate_day(day_inputs: AllocationInputs, config: FinOpsConfig, day: date,
                 on_partition: Callable[[Partition], None] | None = None) -> pl.DataFrame:
    return allocate_prepared(prepare_day(day_inputs, config), config, day, on_partition)


def finish(rows: pl.DataFrame, run_id: str) -> pl.DataFrame:
    return rows.with_columns(pl.lit(run_id).alias("run_id")).select(ALLOCATION.columns).cast(
        dict(ALLOCATION.schema.items()))


def allocate(inputs: AllocationInputs, config: FinOpsConfig, run_id: str) -> AllocationResult:
    """Allocate every day the inputs cover; reconcile against the bill."""
    days = [allocate_day(inputs.for_day(d), config, d) for d in inputs.days()]
    allocation = finish(concat_rows(days), run_id)
    return AllocationResult(allocation, reconcile(inputs.bill, allocation))
