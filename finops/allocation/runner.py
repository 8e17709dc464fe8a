"""The only module of the engine that does I/O: read a window, allocate, write, reconcile.

``run_allocation`` streams day by day: each day's inputs are read from the warehouse (only the
columns the engine uses, the bill already compacted by DuckDB), allocated (all (cluster, day)
partitions of the day in one pass, then the day's cloud partition), reconciled, and spooled as
one Parquet batch beside the warehouse (``Warehouse.replace_streamed``), so memory holds a day
at a time whatever the window: three are in flight, as DuckDB reads the next day on a second
connection (and the engine prepares it there: bill routed, pods keyed) and the previous one
is spooled while the engine works (``finops.prefetch``).
DuckDB's own memory limit is lowered for the run (``allocate_memory_limit``): the engine's
frames live outside it. The window's days in ``allocation`` are then replaced inside one
transaction: if any day does not add up to the bill (each day as it is allocated, then the
``reconciliation`` view read back before the commit), ``ReconciliationError`` lists the rows
that disagree and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from finops.allocation.engine import Partition, allocate_prepared, finish
from finops.allocation.inputs import BILL_KEYS, HOURLY, MONEY, AllocationInputs, conform_bill
from finops.allocation.ownership import parse_backstage
from finops.allocation.prepare import PreparedDay, prepare_day
from finops.allocation.reconcile import check, reconcile
from finops.errors import ConfigError, InputError
from finops.prefetch import ahead
from finops.warehouse import IngestRun, Reader, Replace, Warehouse, new_run_id
from models.config import FinOpsConfig
from models.schemas import (
    ALLOCATION,
    K8S_NAMESPACE,
    PRICE_CATALOG,
    Table,
    conform,
)

# Column pruning: what the engine reads of each hourly table.
COLUMNS: dict[str, tuple[str, ...]] = {
    "nodes": ("cluster", "node", "hour", "provider_id", "instance_type", "region", "spot",
              "capacity_cpu", "capacity_memory", "capacity_gpu", "labels", "running_seconds"),
    "pods": ("cluster", "namespace", "pod", "hour", "node", "workload_kind", "workload_name",
             "running_seconds", "cpu_request", "cpu_usage", "memory_request", "memory_usage",
             "gpu_request", "network_bytes", "labels", "workload_labels"),
    "quotas": ("cluster", "namespace", "resource", "hour", "hard"),
    "volumes": ("cluster", "namespace", "hour", "volume_name", "volume_id", "size_bytes",
                "mounting_pods", "running_seconds"),
    "lbs": ("cluster", "namespace", "service", "hour", "resource_id", "ingress", "labels",
            "running_seconds"),
}


@dataclass
class RunSummary:
    run_id: str
    days: list[date]
    partitions: int = 0
    rows: int = 0
    totals: dict[str, float] = field(default_factory=dict)  # billed, teams, idle, unowned:<reason>


def load_backstage(path: Path | None) -> pl.DataFrame:
    """Read a Backstage catalog: a tree of catalog-info YAML files or an entity JSON file."""
    if path is None:
        return parse_backstage([])
    if not path.exists():
        raise ConfigError(f"ownership.backstage_catalog: {path} does not exist")
    entities: list[Any] = []
    files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
    for file in files:
        try:
            text = file.read_text()
            if file.suffix == ".json":
                data = json.loads(text)
                entities += data.get("items", []) if isinstance(data, dict) else data
            else:
                entities += [d for d in yaml.safe_load_all(text) if d]
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise InputError(f"{file}: not a Backstage catalog file: {exc}") from None
    return parse_backstage(entities)


def _compact_bill_sql() -> str:
    """The day's bill as ``inputs.compact_bill`` makes it, computed by DuckDB while it reads:
    one line per distinct engine-relevant attributes, money summed, only lines the bill split
    per pod keeping their hour. An hourly bill is ~6x fewer lines to hand over and route
    (``bill_is_compact`` tells the engine not to group them again)."""
    keys = [k for k in BILL_KEYS if k != "charge_period_start"]
    hour = ("CASE WHEN x_namespace IS NOT NULL OR x_pod IS NOT NULL "
            "THEN date_trunc('hour', charge_period_start) END AS charge_period_start")
    money = ", ".join(f"sum({m}) AS {m}" for m in MONEY)
    # The view cuts multi-day lines into days; the period test lets DuckDB skip the rest of
    # cost_line before it does (same rows as ``day = $day`` alone).
    return (f"SELECT {', '.join(keys)}, {hour}, {money} FROM cost_line_daily WHERE day = $day "
            "AND charge_period_start < $end AND charge_period_end > $start GROUP BY ALL")


COMPACT_BILL_SQL = _compact_bill_sql()


def _read(wh: Warehouse | Reader, table: Table, where: str, params: dict[str, Any],
          select: str = "*") -> pl.DataFrame:
    frame = wh.frame(f"SELECT {select} FROM {table.name} WHERE {where}", params)
    return conform(frame, table)


def _hourly(wh: Warehouse | Reader, name: str, params: dict[str, Any]) -> pl.DataFrame:
    """One hourly table's rows of the window, only the columns the engine uses."""
    return _read(wh, HOURLY[name], "hour >= $start AND hour < $end", params,
                 ", ".join(COLUMNS[name]))


def read_day(wh: Warehouse | Reader, day: date, backstage: pl.DataFrame,
             namespaces: pl.DataFrame, catalog: pl.DataFrame) -> AllocationInputs:
    """One day's inputs, reading only the columns the engine uses (the rest stay null)."""
    start = datetime.combine(day, time())
    params = {"start": start, "end": start + timedelta(days=1)}
    frames = {name: _hourly(wh, name, params) for name in HOURLY}
    bill = wh.frame(COMPACT_BILL_SQL, {**params, "day": day})
    return AllocationInputs(bill=conform_bill(bill), namespaces=namespaces, catalog=catalog,
                            backstage=backstage, bill_is_compact=True, **frames)


def _inputs(reader: Reader, days: list[date], config: FinOpsConfig,
            ) -> Iterator[tuple[date, PreparedDay]]:
    """Each day's inputs, read on the reader's own connection and prepared for the engine
    (bill routed, pods keyed), all on the reading thread."""
    backstage = load_backstage(config.ownership.backstage_catalog)
    namespaces = _read(reader, K8S_NAMESPACE, "true", {})
    catalog = _read(reader, PRICE_CATALOG, "true", {})
    for day in days:
        yield day, prepare_day(read_day(reader, day, backstage, namespaces, catalog), config)


def _totals(rows: pl.DataFrame, summary: RunSummary) -> None:
    t = summary.totals
    eff = rows.get_column("effective_cost")
    billed_rows = rows.filter(pl.col("price_source").is_in(["bill", "split-bill"]))
    t["billed"] = t.get("billed", 0.0) + float(billed_rows.get_column("effective_cost").sum())
    t["estimated"] = t.get("estimated", 0.0) + float(eff.sum()) - float(
        billed_rows.get_column("effective_cost").sum())
    t["teams"] = t.get("teams", 0.0) + float(rows.filter(pl.col("team").is_not_null())
                                             .get_column("effective_cost").sum())
    t["idle"] = t.get("idle", 0.0) + float(rows.filter(pl.col("cost_kind") == "idle")
                                           .get_column("effective_cost").sum())
    unowned = rows.filter(pl.col("team").is_null()).group_by("unowned_reason").agg(
        pl.col("effective_cost").sum())
    for reason, cost in unowned.iter_rows():
        key = f"unowned:{reason}"
        t[key] = t.get(key, 0.0) + float(cost)


def run_allocation(wh: Warehouse, config: FinOpsConfig, start: date, end: date, *,
                   on_partition: Callable[[Partition], None] | None = None,
                   on_day: Callable[[date], None] | None = None,
                   duckdb_memory: str | None = None) -> RunSummary:
    """Allocate ``start``..``end`` (inclusive) and replace those days of ``allocation``."""
    if end < start:
        raise InputError(f"--end {end} is before --start {start}")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    summary = RunSummary(new_run_id("allocate"), days)

    def counted(part: Partition) -> None:
        summary.partitions += 1
        if on_partition:
            on_partition(part)

    def batches(reader: Reader) -> Iterator[pl.DataFrame]:
        for day, prepared in ahead(_inputs(reader, days, config), "finops-read"):
            rows = finish(allocate_prepared(prepared, config, day, counted), summary.run_id)
            check(reconcile(prepared.inputs.bill, rows))
            _totals(rows, summary)
            summary.rows += rows.height
            if on_day:
                on_day(day)
            yield rows

    run = IngestRun(summary.run_id, "allocate", datetime.combine(start, time()),
                    datetime.combine(end, time()) + timedelta(days=1), files=[])
    # Three threads: DuckDB reads and prepares day n+2, the engine allocates day n+1, day n is
    # spooled.
    # ``closing`` stops the threads (on success or failure) before the reader is closed.
    with (wh.memory_limit(duckdb_memory), wh.reader() as reader,
          closing(ahead(batches(reader), "finops-allocate")) as rows):
        wh.replace_streamed(run, Replace(ALLOCATION, rows, "day BETWEEN $start AND $end",
                                         {"start": start, "end": end}),
                            check=lambda: _verify(wh, start, end))
    return summary


def _verify(wh: Warehouse, start: date, end: date) -> None:
    """Read back the ``reconciliation`` view for the window: it must be zero everywhere.
    Run inside the replacing transaction, so a window that fails it is never committed."""
    view = wh.frame("SELECT * FROM reconciliation WHERE day BETWEEN $start AND $end "
                    "AND difference <> 0", {"start": start, "end": end})
    if view.height:
        view = view.with_columns(pl.col("difference").cast(pl.Float64),
                                 pl.lit(0.0).alias("billed_cost_difference"),
                                 pl.col("billed_effective_cost").cast(pl.Float64),
                                 pl.col("allocated_effective_cost").cast(pl.Float64))
        check(view)
