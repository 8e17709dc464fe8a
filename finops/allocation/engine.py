"""The engine: ``allocate(inputs, config, run_id) -> AllocationResult``.

Work is cut into partitions: one per (cluster, day) plus one non-cluster partition per day
(cloud spend, taxes, credits, commitments), then one day-level pass (taxes and credits that
follow spend). Partitions share nothing but the day's bill routing, so they can run in a
process pool or a distributed engine; the union of partition runs is the whole-window run.

``allocate_day`` does not loop over them: every cluster step is keyed by ``cluster``, so all
(cluster, day) partitions of a day run as one set of grouped frame operations
(``cluster.allocate_clusters``); ``partitions`` still cuts a day into runnable partitions,
and the property tests hold the union of those equal to the one-pass day.

``allocate_day`` is ``prepare.prepare_day`` (route the bill, key the pods, price nothing yet)
then ``allocate_prepared``: the pipeline's runner calls the first on its reading thread, so
one day is prepared while the engine allocates the day before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from finops.allocation.cloud import cloud_rows, finalize_day
from finops.allocation.cluster import allocate_clusters
from finops.allocation.inputs import AllocationInputs
from finops.allocation.prepare import PreparedDay, prepare_day
from finops.allocation.reconcile import reconcile
from finops.allocation.rows import ENGINE_SCHEMA, collapse, concat_rows
from models.config import FinOpsConfig

CLOUD = None  # partition key of the non-cluster partition


@dataclass(frozen=True)
class AllocationResult:
    allocation: pl.DataFrame  # ENGINE_SCHEMA: ALLOCATION without the currency columns
    reconciliation: pl.DataFrame  # day, billing_account_id, billed/allocated, difference


@dataclass(frozen=True)
class Partition:
    day: date
    cluster: str | None  # None: the day's non-cluster partition
    prepared: PreparedDay | None = field(default=None, repr=False)

    def run(self, config: FinOpsConfig) -> pl.DataFrame:
        assert self.prepared is not None, "a key, not a partition"
        if self.cluster is None:
            return _cloud(self.prepared, config, self.day)
        return allocate_clusters(self.prepared, config, self.day)


def partitions(day_inputs: AllocationInputs, config: FinOpsConfig, day: date) -> list[Partition]:
    """The partitions of one day: each cluster seen in usage or bill, then the cloud one."""
    whole = prepare_day(day_inputs, config)
    parts = [Partition(day, c, whole.for_cluster(c, config)) for c in whole.clusters]
    return [*parts, Partition(day, CLOUD, whole)]


def _cloud(prepared: PreparedDay, config: FinOpsConfig, day: date) -> pl.DataFrame:
    return cloud_rows(prepared.routed.cloud, config).with_columns(pl.lit(day).alias("day"))


def allocate_prepared(prepared: PreparedDay, config: FinOpsConfig, day: date,
                      on_partition: Callable[[Partition], None] | None = None) -> pl.DataFrame:
    """Rows of one day (ROW schema, collapsed to the output grain): all clusters in one pass,
    then the cloud partition. ``on_partition`` hears of each (cluster, day) key done."""
    k8s = allocate_clusters(prepared, config, day) if prepared.clusters else None
    cloud = _cloud(prepared, config, day)
    if on_partition:
        for cluster in [*prepared.clusters, CLOUD]:
            on_partition(Partition(day, cluster))
    rows = concat_rows([r for r in (k8s, cloud) if r is not None])
    return collapse(finalize_day(rows, config))


def allocate_day(day_inputs: AllocationInputs, config: FinOpsConfig, day: date,
                 on_partition: Callable[[Partition], None] | None = None) -> pl.DataFrame:
    return allocate_prepared(prepare_day(day_inputs, config), config, day, on_partition)


def finish(rows: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """Rows with their run id, in ``ENGINE_SCHEMA`` (amounts in each account's currency)."""
    return rows.with_columns(pl.lit(run_id).alias("run_id")).select(ENGINE_SCHEMA.names()).cast(
        dict(ENGINE_SCHEMA.items()))


def allocate(inputs: AllocationInputs, config: FinOpsConfig, run_id: str) -> AllocationResult:
    """Allocate every day the inputs cover; reconcile against the bill."""
    days = [allocate_day(inputs.for_day(d), config, d) for d in inputs.days()]
    allocation = finish(concat_rows(days), run_id)
    return AllocationResult(allocation, reconcile(inputs.bill, allocation))
