"""The partition function, the inputs each partition gets, and the pass that closes a day.

A run's keys are whole days (``WHOLE_DAY``: every cluster of the day in one pass, the
``local`` runner) or, for runners whose workers are other processes or machines, one key per
(cluster, day) plus one per day for the spend outside clusters (``OUTSIDE``). Whatever the
keys, ``allocate_partition`` is the one partition function: the engine's rows of what the key
covers, before the day-level pass.

What runs per day, in the caller's process: reading the day from the warehouse and routing its
bill to clusters (``prepare_day``: a bill line may belong to any cluster's node, so routing
sees them all), then, once all the day's partitions are back, ``close_day``: taxes and credits
that follow spend (they need every row of the day's account), the collapse to the output
grain, the reconciliation against the day's bill and the conversion to the reporting currency.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import polars as pl

from finops.allocation.cloud import finalize_day
from finops.allocation.engine import CLOUD, Partition, finish
from finops.allocation.inputs import AllocationInputs
from finops.allocation.pod_keys import PodFrame
from finops.allocation.prepare import PreparedDay, prepare_day
from finops.allocation.reconcile import check, reconcile
from finops.allocation.rows import BILLED_SOURCES, collapse, concat_rows
from finops.pipeline.currency import FxPlan, to_reporting
from finops.pipeline.inputs import read_day
from finops.pipeline.runner import OUTSIDE, WHOLE_DAY, PartitionKey
from models.config import FinOpsConfig
from models.errors import InputError
from models.loads import FrameReader

# Run-wide frames: the same for every partition, so shipped once per run, not per partition.
RUN_WIDE = frozenset({"inputs.catalog", "inputs.backstage"})


def allocate_partition(config: FinOpsConfig, key: PartitionKey,
                       prepared: PreparedDay) -> pl.DataFrame:
    """The partition function (top-level, picklable): the engine's rows of ``key``."""
    if key.cluster == OUTSIDE:
        return Partition(key.day, CLOUD, prepared).run(config)
    if key.cluster != WHOLE_DAY:
        return Partition(key.day, key.cluster, prepared).run(config)
    parts = [Partition(key.day, CLOUD, prepared).run(config)]
    if prepared.clusters:
        parts.insert(0, Partition(key.day, WHOLE_DAY, prepared).run(config))
    return concat_rows(parts)


def cut(whole: PreparedDay, key: PartitionKey, config: FinOpsConfig) -> PreparedDay:
    """What the partition ``key`` needs of its prepared day, and nothing more (a cluster's
    partition carries no bill: its lines are already routed to it)."""
    if key.cluster == WHOLE_DAY:
        return whole
    if key.cluster == OUTSIDE:
        routed = whole.routed
        clear = {f.name: getattr(routed, f.name).clear() for f in dataclasses.fields(routed)}
        return PreparedDay(AllocationInputs(catalog=whole.inputs.catalog,
                                            backstage=whole.inputs.backstage),
                           dataclasses.replace(routed, **{**clear, "cloud": routed.cloud}),
                           PodFrame(whole.pods.facts.clear(), whole.pods.attrs.clear()),
                           whole.hours.clear(), [])
    mine = whole.for_cluster(key.cluster, config)
    return dataclasses.replace(mine, inputs=dataclasses.replace(
        mine.inputs, bill=mine.inputs.bill.clear()))


def keys_of(days: list[date], clusters: dict[date, list[str]] | None) -> list[PartitionKey]:
    """Whole days (``clusters`` None), or per day its spend outside clusters and each cluster."""
    if clusters is None:
        return [PartitionKey(d) for d in days]
    return [k for d in days for k in [PartitionKey(d, OUTSIDE),
                                      *(PartitionKey(d, c) for c in clusters.get(d, []))]]


@dataclass
class DayReader:
    """The runner's ``read``: reads and prepares a day when its first key comes, cuts each key
    out of it, and keeps the day's bill until ``close_day`` has reconciled it."""

    reader: FrameReader
    shared: AllocationInputs
    config: FinOpsConfig
    expected: dict[date, list[str]] | None = None  # the clusters the keys were made from
    side: FrameReader | None = None  # a second reader: the pod-hours read beside the rest
    _day: date | None = None
    _whole: PreparedDay | None = None
    bills: dict[date, tuple[pl.DataFrame, list[str]]] = dataclasses.field(default_factory=dict)

    def __call__(self, key: PartitionKey) -> PreparedDay:
        if self._whole is None or self._day != key.day:
            # Node labels only when prices by node label read them (most of the node read).
            node_labels = bool(self.config.allocation.prices.by_node_label)
            inputs = read_day(self.reader, key.day, self.shared, node_labels=node_labels,
                              side=self.side)
            self._whole = prepare_day(inputs, self.config)
            self._day = key.day
            self._check(key.day, self._whole.clusters)
            self.bills[key.day] = (self._whole.inputs.bill, self._whole.clusters)
        return cut(self._whole, key, self.config)

    def _check(self, day: date, clusters: list[str]) -> None:
        if self.expected is not None and sorted(self.expected.get(day, [])) != clusters:
            raise InputError(f"{day}: the engine sees clusters {clusters}, the partition keys "
                             f"were made for {sorted(self.expected.get(day, []))}")


@dataclass(frozen=True)
class DayResult:
    day: date
    rows: pl.DataFrame  # ALLOCATION rows, reconciled with the day's bill, converted
    clusters: list[str]
    totals: dict[str, float]


def close_day(config: FinOpsConfig, run_id: str, fx: FxPlan, day: date, bill: pl.DataFrame,
              clusters: list[str], parts: list[pl.DataFrame]) -> DayResult:
    """The day-level pass over all partitions of ``day``: taxes and credits, the output grain,
    the reconciliation with the day's bill (billing currency), then the reporting currency."""
    rows = finish(collapse(finalize_day(concat_rows(parts), config)), run_id)
    check(reconcile(bill, rows))
    rows = to_reporting(rows, fx)
    return DayResult(day, rows, clusters, totals(rows))


def by_day(results: Iterator[tuple[PartitionKey, pl.DataFrame]],
           ) -> Iterator[tuple[date, list[pl.DataFrame]]]:
    """Results in key order, grouped into whole days."""
    day: date | None = None
    parts: list[pl.DataFrame] = []
    for key, rows in results:
        if day is not None and key.day != day:
            yield day, parts
            parts = []
        day = key.day
        parts.append(rows)
    if day is not None:
        yield day, parts


def totals(rows: pl.DataFrame) -> dict[str, float]:
    """Billed and estimated cost, what teams own, idle, and unowned spend by reason."""
    cost = pl.col("effective_cost")
    billed = pl.col("price_source").is_in(BILLED_SOURCES)
    sums = rows.select(billed=cost.filter(billed).sum(), all=cost.sum(),
                       teams=cost.filter(pl.col("team").is_not_null()).sum(),
                       idle=cost.filter(pl.col("cost_kind") == "idle").sum()).row(0, named=True)
    found = {"billed": sums["billed"], "estimated": sums["all"] - sums["billed"],
             "teams": sums["teams"], "idle": sums["idle"]}
    unowned = rows.filter(pl.col("team").is_null()).group_by("unowned_reason").agg(cost.sum())
    found |= {f"unowned:{reason}": value for reason, value in unowned.iter_rows()}
    return {k: float(v) for k, v in found.items()}
