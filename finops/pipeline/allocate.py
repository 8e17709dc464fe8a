"""``allocate_days`` (and ``run_allocation`` for a window): read days from the warehouse,
allocate them, write them, check them.

The days are cut into partition keys (whole days for ``LocalRunner``; for a runner whose
workers are elsewhere, each (cluster, day) and each day's spend outside clusters:
``partitions.keys_of``). A runner (``LocalRunner`` unless one is given) reads each key's
inputs (``partitions.DayReader``: the day is read and its bill routed once, in this process)
and applies ``partitions.allocate_partition``; each day's results then go through
``partitions.close_day`` (taxes and credits, the output grain, the reconciliation against the
day's bill in each account's billing currency, the conversion to the reporting currency at
the rates ``currency.plan`` fixed before the run: a missing rate fails the run before any
work), on a thread of its own. The results stream into one ``store`` of ``allocation``
(spooled, so memory holds a few days whatever the window), with the rates applied in
``allocation_fx``; the same load records the days as allocated and clears their changed
marks. Before that transaction commits the ``reconciliation`` and
``reconciliation_reporting`` views are read back for the days (``verify``): if any day does
not add up, in the billing currency or once converted, ``ReconciliationError`` lists the rows
that disagree and nothing is written. Nothing is written either when a partition fails for
good on any runner. DuckDB's memory limit is lowered meanwhile (``allocate_memory_limit``):
the engine's frames live outside it. While the days stream through the pipeline DuckDB runs
on one thread (``run_settings``; a run of one day reads on all, its pod-hours on a second
reader beside the rest of the day: ``side_reader``); the load and the read-back after it run
on the warehouse's own threads (nothing else runs then).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

import polars as pl

from finops.allocation.reconcile import check
from finops.pipeline.currency import plan
from finops.pipeline.incremental import check_kept, config_fingerprint, done, kept_from
from finops.pipeline.inputs import day_clusters, run_inputs
from finops.pipeline.partitions import (
    DayReader,
    DayResult,
    allocate_partition,
    by_day,
    close_day,
    keys_of,
)
from finops.pipeline.runner import LocalRunner, PartitionKey, Runner
from finops.pipeline.store import store
from finops.pipeline.threads import ahead
from finops.warehouse import CursorReader, Warehouse
from models.config import FinOpsConfig
from models.errors import InputError, ReconciliationError
from models.loads import DAYS_WHERE, IngestRun, Load, Replace, new_run_id
from models.schemas import ALLOCATION, ALLOCATION_FX


@dataclass
class RunSummary:
    run_id: str
    days: list[date]
    partitions: int = 0
    rows: int = 0
    totals: dict[str, float] = field(default_factory=dict)  # billed, teams, idle, unowned:<reason>
    currency: str = ""  # the reporting currency of the totals
    currency_chosen_by: str = ""  # why that one (finops.yaml, the largest share of the bill)

    def add(self, result: DayResult) -> None:
        self.rows += result.rows.height
        self.partitions += len(result.clusters) + 1  # and the day's spend outside clusters
        for key, value in result.totals.items():
            self.totals[key] = self.totals.get(key, 0.0) + value


def run_allocation(wh: Warehouse, config: FinOpsConfig, start: date, end: date,
                   **options: Any) -> RunSummary:
    """Allocate ``start``..``end`` (inclusive) and replace those days of ``allocation``."""
    if end < start:
        raise InputError(f"--end {end} is before --start {start}")
    return allocate_days(wh, config, [start + timedelta(days=i)
                                      for i in range((end - start).days + 1)], **options)


def allocate_days(wh: Warehouse, config: FinOpsConfig, days: list[date], *,
                  runner: Runner | None = None,
                  on_partition: Callable[[PartitionKey], None] | None = None,
                  on_day: Callable[[date], None] | None = None,
                  on_keys: Callable[[Sequence[PartitionKey]], None] | None = None,
                  duckdb_memory: str | None = None) -> RunSummary:
    """Allocate ``days`` (any set of days) and replace exactly those days of ``allocation``;
    the same transaction records them as allocated with this configuration and clears their
    changed marks (``finops.pipeline.incremental``). ``on_keys`` hears the run's partition
    keys before the work; ``on_partition`` each key done (in key order), ``on_day`` each day
    closed."""
    days = sorted(set(days))
    summary = RunSummary(new_run_id("allocate"), days)
    if not days:
        return summary
    runner = runner or LocalRunner()
    fingerprint = config_fingerprint(config)
    run = IngestRun(summary.run_id, "allocate", datetime.combine(days[0], time()),
                    datetime.combine(days[-1], time()) + timedelta(days=1), files=[],
                    checksum=fingerprint)
    window = {"first": days[0], "last": days[-1], "days": days}
    with wh.memory_limit(duckdb_memory), wh.reader() as reader, side_reader(wh, days) as side:
        with wh.recording(run):
            check_kept(days, kept_from(reader))
            shared = run_inputs(reader, config)
            fx = plan(reader, config, days)
            clusters = (day_clusters(reader, days[0], days[-1]) if runner.per_cluster
                        else None)
        summary.currency, summary.currency_chosen_by = fx.currency, fx.chosen_by
        keys = keys_of(days, clusters)
        if on_keys:
            on_keys(keys)
        read = DayReader(reader, shared, config, clusters, side)
        close = partial(close_day, config, summary.run_id, fx)
        # ``closing`` stops the runner (its threads, its workers) on success or failure
        # before the reader is closed.
        with closing(runner.run(keys, read, partial(allocate_partition, config))) as results:
            finished = _keyed(keys, results, on_partition)
            closed = ahead((close(day, *read.bills.pop(day), parts)
                            for day, parts in by_day(finished)), "finops-close")
            with closing(closed):
                rows = _reported(closed, summary, on_day)
                replaces = [Replace(ALLOCATION, rows, DAYS_WHERE, window),
                            Replace(ALLOCATION_FX, fx.applied(summary.run_id), DAYS_WHERE,
                                    window),
                            *done(days, summary.run_id, fingerprint)]
                store(wh, Load(run, replaces), check=lambda: verify(wh, window),
                      spooling=run_settings(len(days)))
    return summary


def run_settings(days: int) -> dict[str, str]:
    """DuckDB's settings while ``days`` days stream through the pipeline: one thread. Its
    reads run on the pipeline's reading thread while Polars' pool (one thread per core) runs
    the engine on the day before, so the cores stay busy without DuckDB's own pool spinning
    against Polars' (at L: both at 2 threads ~20% more CPU; both at 1, Polars' one thread was
    the run's limit). A run of one day has no day before: its read runs alone, on the
    warehouse's threads (at L, ~0.1 s of a daily run's ~2 s)."""
    return {"threads": "1"} if days > 1 else {}


def side_reader(wh: Warehouse, days: list[date]) -> AbstractContextManager[CursorReader | None]:
    """A second reader for a run of one day, on which ``read_day`` reads the pod-hours beside
    the rest of the day (at L a day's read 0.32 -> 0.25 s median, same CPU); none for longer
    runs, whose reads already run beside the engine on the day before (at one DuckDB thread
    it saved ~0.01 s a day for ~0.07 CPU-s more)."""
    return wh.reader() if len(days) == 1 else nullcontext()


def _keyed(keys: Sequence[PartitionKey], results: Iterator[pl.DataFrame],
           on_partition: Callable[[PartitionKey], None] | None,
           ) -> Iterator[tuple[PartitionKey, pl.DataFrame]]:
    """The runner's results (in key order) beside their keys."""
    for key, rows in zip(keys, results, strict=False):
        if on_partition:
            on_partition(key)
        yield key, rows


def _reported(results: Iterator[DayResult], summary: RunSummary,
              on_day: Callable[[date], None] | None) -> Iterator[pl.DataFrame]:
    """Each day's rows, once the summary and the callback have heard of it."""
    for result in results:
        summary.add(result)
        if on_day:
            on_day(result.day)
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
