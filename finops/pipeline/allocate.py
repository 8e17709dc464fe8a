"""``allocate_days`` (any set of days) and ``run_allocation`` (a window): read the days from
the warehouse, allocate them, write them, check them.

The days are cut into partition keys (today: one per day, ``runner.WHOLE_DAY``); a runner
(``LocalRunner`` unless one is given) reads each day's inputs (the engine prepares them on
the reading thread: bill routed, pods keyed) and applies ``allocate_partition``, which
allocates the day, reconciles it against the day's bill (in each account's billing currency)
and converts it to the reporting currency (``currency.to_reporting``, at the rates
``currency.plan`` fixed before the run: a missing rate fails the run before any work). The
results stream into one ``store`` of ``allocation`` (spooled, so memory holds a few days
whatever the window), with the rates applied in ``allocation_fx``; the same load records the
days as allocated and clears their changed marks. Before that transaction commits the
``reconciliation`` and ``reconciliation_reporting`` views are read back for the days
(``verify``): if any day does not add up, in the billing currency or once converted,
``ReconciliationError`` lists the rows that disagree and nothing is written. DuckDB's memory
limit is lowered meanwhile (``allocate_memory_limit``): the engine's frames live outside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

import polars as pl

from finops.allocation.engine import CLOUD, Partition, allocate_prepared, finish
from finops.allocation.inputs import AllocationInputs
from finops.allocation.prepare import PreparedDay, prepare_day
from finops.allocation.reconcile import check, reconcile
from finops.allocation.rows import BILLED_SOURCES
from finops.pipeline.currency import FxPlan, plan, to_reporting
from finops.pipeline.incremental import check_kept, config_fingerprint, done, kept_from
from finops.pipeline.inputs import read_day, run_inputs
from finops.pipeline.runner import LocalRunner, PartitionKey, Runner
from finops.pipeline.store import store
from finops.warehouse import Warehouse
from models.config import FinOpsConfig
from models.errors import InputError, ReconciliationError
from models.loads import FrameReader, IngestRun, Load, Replace, new_run_id
from models.schemas import ALLOCATION, ALLOCATION_FX


@dataclass(frozen=True)
class PartitionResult:
    key: PartitionKey
    rows: pl.DataFrame  # ALLOCATION rows, reconciled with the partition's bill, converted
    clusters: list[str]
    totals: dict[str, float]


@dataclass
class RunSummary:
    run_id: str
    days: list[date]
    partitions: int = 0
    rows: int = 0
    totals: dict[str, float] = field(default_factory=dict)  # billed, teams, idle, unowned:<reason>
    currency: str = ""  # the reporting currency of the totals
    currency_chosen_by: str = ""  # why that one (finops.yaml, the largest share of the bill)

    def add(self, result: PartitionResult) -> None:
        self.rows += result.rows.height
        self.partitions += len(result.clusters) + 1  # and the day's spend outside clusters
        for key, value in result.totals.items():
            self.totals[key] = self.totals.get(key, 0.0) + value


def allocate_partition(config: FinOpsConfig, run_id: str, fx: FxPlan, key: PartitionKey,
                       prepared: PreparedDay) -> PartitionResult:
    """The partition function: a day's rows, reconciled with its bill, in the reporting
    currency (a top-level function of picklable arguments, so a process pool or Ray can run
    it)."""
    rows = finish(allocate_prepared(prepared, config, key.day), run_id)
    check(reconcile(prepared.inputs.bill, rows))
    rows = to_reporting(rows, fx)
    return PartitionResult(key, rows, prepared.clusters, totals(rows))


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


def run_allocation(wh: Warehouse, config: FinOpsConfig, start: date, end: date,
                   **options: Any) -> RunSummary:
    """Allocate ``start``..``end`` (inclusive) and replace those days of ``allocation``."""
    if end < start:
        raise InputError(f"--end {end} is before --start {start}")
    return allocate_days(wh, config, [start + timedelta(days=i)
                                      for i in range((end - start).days + 1)], **options)


def allocate_days(wh: Warehouse, config: FinOpsConfig, days: list[date], *,
                  runner: Runner | None = None,
                  on_partition: Callable[[Partition], None] | None = None,
                  on_day: Callable[[date], None] | None = None,
                  duckdb_memory: str | None = None) -> RunSummary:
    """Allocate ``days`` (any set of days) and replace exactly those days of ``allocation``;
    the same transaction records them as allocated with this configuration and clears their
    changed marks (``finops.pipeline.incremental``)."""
    days = sorted(set(days))
    summary = RunSummary(new_run_id("allocate"), days)
    if not days:
        return summary
    fingerprint = config_fingerprint(config)
    run = IngestRun(summary.run_id, "allocate", datetime.combine(days[0], time()),
                    datetime.combine(days[-1], time()) + timedelta(days=1), files=[],
                    checksum=fingerprint)
    window = {"first": days[0], "last": days[-1], "days": days}
    with wh.memory_limit(duckdb_memory), wh.reader() as reader:
        with wh.recording(run):
            check_kept(days, kept_from(reader))
            shared = run_inputs(reader, config)
            fx = plan(reader, config, days)
        summary.currency, summary.currency_chosen_by = fx.currency, fx.chosen_by
        partition = partial(allocate_partition, config, summary.run_id, fx)
        read = partial(_prepared, reader, shared, config)
        # ``closing`` stops the runner's threads (on success or failure) before the reader
        # is closed.
        with closing((runner or LocalRunner()).run([PartitionKey(d) for d in days], read,
                                                   partition)) as results:
            rows = _reported(results, summary, on_partition, on_day)
            replaces = [Replace(ALLOCATION, rows, DAYS_WHERE, window),
                        Replace(ALLOCATION_FX, fx.applied(summary.run_id), DAYS_WHERE, window),
                        *done(days, summary.run_id, fingerprint)]
            store(wh, Load(run, replaces), check=lambda: verify(wh, window))
    return summary


# The days of a run: the range lets DuckDB skip row groups by their min/max, the list picks
# the days themselves (a run's days need not be consecutive).
DAYS_WHERE = "day BETWEEN $first AND $last AND list_contains($days, day)"


def _prepared(reader: FrameReader, shared: AllocationInputs, config: FinOpsConfig,
              key: PartitionKey) -> PreparedDay:
    """A day's inputs read and prepared for the engine (bill routed, pods keyed): the
    runner's ``read``, so the preparation runs where the reading does."""
    node_labels = bool(config.allocation.prices.by_node_label)
    return prepare_day(read_day(reader, key.day, shared, node_labels=node_labels), config)


def _reported(results: Iterator[PartitionResult], summary: RunSummary,
              on_partition: Callable[[Partition], None] | None,
              on_day: Callable[[date], None] | None) -> Iterator[pl.DataFrame]:
    """Each result's rows, once the summary and the callbacks have heard of it."""
    for result in results:
        summary.add(result)
        for cluster in [*result.clusters, CLOUD]:
            if on_partition:
                on_partition(Partition(result.key.day, cluster))
        if on_day:
            on_day(result.key.day)
        yield result.rows


def verify(wh: Warehouse, window: dict[str, Any]) -> None:
    """Read back the ``reconciliation`` view (billing currency) and ``reconciliation_reporting``
    (the bill converted) for the run's days: both must be zero everywhere. Run inside the
    replacing transaction, so a run that fails either is never committed. Read through the
    views' ``*_between`` macros: the views' own ``day`` is a join's, so a filter on it cannot
    reach the bill, and every run would cut the whole history's bill."""
    view = wh.frame(f"SELECT * FROM reconciliation_between($first, $last) WHERE {DAYS_WHERE} "
                    "AND difference <> 0", window)
    if view.height:
        view = view.with_columns(pl.col("difference").cast(pl.Float64),
                                 pl.lit(0.0).alias("billed_cost_difference"),
                                 pl.col("billed_effective_cost").cast(pl.Float64),
                                 pl.col("allocated_effective_cost").cast(pl.Float64))
        check(view)
    check_converted(wh.frame(f"SELECT * FROM reconciliation_reporting_between($first, $last) "
                             f"WHERE {DAYS_WHERE} AND (difference <> 0 OR difference IS NULL)",
                             window))


def check_converted(bad: pl.DataFrame) -> None:
    """Raise ``ReconciliationError`` for rows of ``reconciliation_reporting`` that differ."""
    if not bad.height:
        return
    lines = [f"  {r['day']} {r['billing_account_id']}: bill converted "
             f"{r['billed_effective_cost']} {r['currency']}, allocated "
             f"{r['allocated_effective_cost']}, difference {r['difference']} "
             f"(rate {r['fx_rate']}, {r['fx_source']})" for r in bad.head(50).iter_rows(named=True)]
    raise ReconciliationError(
        f"the allocation in the reporting currency does not add up to the converted bill on "
        f"{bad.height} (day, billing account) rows; nothing was written:\n" + "\n".join(lines))
