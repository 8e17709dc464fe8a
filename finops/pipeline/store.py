"""``store``: what a source or the engine produced, into the warehouse in one transaction;
``ingest``: a collector run, its failures recorded, each load it returns stored.

A stream of frames (a month of allocation, a multi-million-row bill read in batches) is
spooled first: each batch to a Parquet file beside the warehouse (memory: one batch; two in
``store``, which looks whether a stream has a second), then the warehouse inserts the spooled
files with one ``INSERT … SELECT``, which DuckDB streams to disk (one transaction appending
millions of rows batch by batch would keep them all in memory, ~1 KB a row with tags; a
scratch table would write every row twice). The target is untouched until that transaction;
a failure anywhere (a bad row in the last batch) leaves the previous data, records a
``failed`` run and removes the spool. In ``store`` a stream of one frame (a one-day
allocation, a small bill) is not spooled: the load inserts that frame.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from types import TracebackType

import polars as pl

from finops.duck import duckdb_settings
from finops.warehouse import Warehouse
from finops.warehouse_lock import spool_prefix
from models.loads import IngestRun, Load, Replace, sql_literal, table_select
from models.schemas import conform


def ingest(wh: Warehouse, source: str, files: Iterable[Path | str],
           collect: Callable[[Path], Sequence[Load]], *, start: datetime | None = None,
           end: datetime | None = None) -> list[IngestRun]:
    """Run a collector and store each load it returns, in order. ``collect`` gets a scratch
    folder for what it downloads or spools (removed afterwards); if it fails, a ``failed``
    run of ``source`` over ``files`` (and the window, when known) is recorded."""
    with tempfile.TemporaryDirectory(prefix=f"finops-{source}-") as work:
        with wh.recording(IngestRun.begin(source, files, start, end)):
            loads = collect(Path(work))
        return [store(wh, load) for load in loads]


def store(wh: Warehouse, load: Load, *, check: Callable[[], None] | None = None,
          spooling: Mapping[str, str] | None = None) -> IngestRun:
    """Spool ``load``'s streams, then ``Warehouse.load`` it (``check`` runs inside its
    transaction, seeing the new rows). ``spooling``: DuckDB settings while the streams are
    consumed (a stream that is itself a pipeline of threads reading the warehouse sets its
    threads there); the load runs with the warehouse's own."""
    with Spool(wh.path) as spool:
        with wh.recording(load.run), duckdb_settings(wh.con, spooling or {}):
            replaces = [spool.replace(item, one_frame_as_is=True) for item in load.replaces]
        return wh.load(dataclasses.replace(load, replaces=replaces), check=check)


class Spool:
    """A scratch folder beside the warehouse ``db``, removed on exit, for streams turned into
    Parquet files that DuckDB scans. Named after ``db`` so that the next writer of that
    warehouse removes it if this process is killed (``warehouse_lock.remove_leftovers``)."""

    def __init__(self, db: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=spool_prefix(db), dir=db.parent))

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def replace(self, item: Replace, *, one_frame_as_is: bool = False) -> Replace:
        """``item`` with a stream's batches written out; its rows become a scan of them.
        ``one_frame_as_is``: a stream of at most one frame (one day's allocation, a small
        bill) holds no more memory than that frame, so it is handed over as a frame (the
        load inserts it) without a Parquet write and read; callers that need the rows as SQL
        (a staged delivery, planned before its load) leave it off."""
        if isinstance(item.rows, pl.DataFrame | str):
            return item
        batches = iter(item.rows)
        head = list(islice(batches, 2 if one_frame_as_is else 0))  # one frame, or more?
        if one_frame_as_is and len(head) < 2:
            return dataclasses.replace(item, rows=head[0] if head else item.table.empty())
        folder = Path(tempfile.mkdtemp(dir=self.root))
        item.table.empty().write_parquet(folder / "000000.parquet")  # the glob always matches
        for number, batch in enumerate(chain(head, batches), start=1):
            rows = conform(batch, item.table)
            rows.write_parquet(folder / f"{number:06d}.parquet", compression="lz4")
        scan = f"read_parquet({sql_literal(str(folder / '*.parquet'))})"
        return dataclasses.replace(item, rows=table_select(item.table, scan))
