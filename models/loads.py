"""What a load is: rows for a table, the partition they replace, and the run that records it.

Collectors (``ingestion``) and the allocation pipeline build these; the warehouse is the one
place that writes them (``finops.warehouse.Warehouse.load``). A load replaces partitions, so
loading the same delivery twice leaves one copy; every load is recorded in ``ingest_runs``
(source, window, files, rows, checksum, status, error), failed ones too.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import polars as pl

from models.schemas import MAP, Table

Rows = pl.DataFrame | Iterable[pl.DataFrame] | str

# Some days of a ``day`` column, bound to $first, $last and $days: the range lets DuckDB skip
# row groups by their min/max, the list picks the days themselves (they need not be
# consecutive). A run's days, a publish's pending days, a bill load's changed days.
DAYS_WHERE = "day BETWEEN $first AND $last AND list_contains($days, day)"


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` without DuckDB's own progress bar, which it draws on stdout for any query over
    2 s, to a file or pipe alike: inside a command's output (`finops export ... > out.csv`)
    and between its own progress lines. A session setting: set on each connection, before
    its configuration is locked."""
    con.execute("SET enable_progress_bar = false")
    return con


@dataclass
class Replace:
    """Rows for one table and the partition of it they replace.

    ``rows`` is a frame; an iterable of frames (a stream: spooled to Parquet before the
    load, so memory holds one batch at a time); or a SQL SELECT that DuckDB runs itself (a
    scan of files, faster than any frame), its columns named like the table's (missing ones
    become NULL). The partition is every row matching ``where`` (bound with ``params``), or,
    when ``keys`` are given, every partition (distinct values of those columns) the rows
    themselves hold: for sources whose partitions are known only once read, such as a bill
    that restates its billing periods.
    """

    table: Table
    rows: Rows
    where: str = "false"
    params: dict[str, Any] = field(default_factory=dict)
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunDelivery:
    """The delivery a run loaded (``ingest_deliveries``): its kind (``aws-data-export``,
    ``azure-export``, ``shards``, ``files``, ``bigquery``), the export it belongs to (None for
    loose files: nothing proves what they restate), its version (a UTC ISO time that orders
    the deliveries of one export) and its manifest."""

    kind: str
    export: str | None
    version: str | None
    manifest: str | None = None


@dataclass(frozen=True)
class RunFile:
    """One file of a run's delivery (``ingest_files``): its URI, role (``data`` or
    ``manifest``), sha256, size and the data rows read from it."""

    file: str
    role: str = "data"
    sha256: str | None = None
    bytes: int | None = None
    rows: int | None = None


@dataclass(frozen=True)
class PartitionChange:
    """What a run did to one billing period (``ingest_partitions``): the action, lines and
    totals before and after, and the earlier runs whose rows it deleted or kept beside its own."""

    source: str
    billing_account_id: str
    billing_period_start: datetime
    billing_currency: str | None
    action: str
    lines: tuple[int, int]
    billed: tuple[float, float]
    effective: tuple[float, float]
    replaced_runs: tuple[str, ...] = ()
    kept_runs: tuple[str, ...] = ()


@dataclass
class IngestRun:
    """One row of ``ingest_runs``; ``duration_s`` counts from the run's creation. A bill
    delivery's run also carries its delivery, its files and what it did to each period."""

    run_id: str
    source: str
    window_start: datetime | None
    window_end: datetime | None
    files: list[str]
    rows: int = 0
    checksum: str | None = None
    status: str = "running"
    error: str | None = None
    duration_s: float = 0.0
    started: float = field(default_factory=time.monotonic, repr=False, compare=False)
    delivery: RunDelivery | None = None
    file_records: list[RunFile] = field(default_factory=list)
    partitions: list[PartitionChange] = field(default_factory=list)

    @classmethod
    def begin(cls, source: str, files: Iterable[Path | str], start: datetime | None = None,
              end: datetime | None = None, checksum: str | None = None) -> IngestRun:
        """A new run of ``source`` over ``files`` (and the window, when known)."""
        return cls(new_run_id(source), source, start, end, [str(f) for f in files],
                   checksum=checksum)

    def finish(self, status: str, error: str | None = None) -> None:
        self.status, self.error = status, error
        self.duration_s = time.monotonic() - self.started


@dataclass
class Load:
    """What a source hands the warehouse: its run and the partitions it replaces, loaded in
    one transaction. ``memory_limit`` lowers DuckDB's limit meanwhile, for rows built outside
    DuckDB (a stream of Polars batches); None keeps the warehouse's. ``marks_days``: the load
    records the days it changed in the tables the allocation reads (every collector's does);
    retention's does not (removing raw rows of allocated days changes no allocation)."""

    run: IngestRun
    replaces: list[Replace]
    memory_limit: str | None = None
    marks_days: bool = True


class FrameReader(Protocol):
    """Reads as Polars frames (the warehouse, or one of its readers): how a collector sees
    what is already loaded, e.g. the label history it extends. ``tables``: frames the query
    names as tables, visible to that query only (many values for an ``IN`` or a join, which
    as a list parameter DuckDB would convert one Python object at a time)."""

    def frame(self, sql: str, params: dict[str, Any] | list[Any] | None = None, *,
              tables: Mapping[str, pl.DataFrame] | None = None) -> pl.DataFrame: ...


def new_run_id(source: str) -> str:
    return f"{source}-{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def file_checksum(paths: Iterable[Path]) -> str:
    """sha256 over the files' bytes, in path order (the checksum of a run's files)."""
    return file_checksums(paths)[0]


def file_checksums(paths: Iterable[Path]) -> tuple[str, dict[Path, str]]:
    """``file_checksum`` of ``paths`` and the sha256 of each file, reading each file once."""
    whole = hashlib.sha256()
    each: dict[Path, str] = {}
    for path in sorted(paths):
        one = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                whole.update(block)
                one.update(block)
        each[path] = one.hexdigest()
    return whole.hexdigest(), each


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal (for what DuckDB takes no parameter for: file paths in
    ``read_parquet``, names inside generated SQL)."""
    return "'" + text.replace("'", "''") + "'"


def table_select(table: Table, relation: str) -> str:
    """A SELECT of ``relation`` (a conformed frame, or Parquet files written from one) as
    ``table``'s rows, each column named like the table's; label lists become MAPs."""
    columns = [f'map_from_entries("{name}") AS "{name}"' if dtype == MAP else f'"{name}"'
               for name, dtype in table.schema.items()]
    return f"SELECT {', '.join(columns)} FROM {relation}"
