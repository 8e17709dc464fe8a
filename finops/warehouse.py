"""The DuckDB warehouse: migrations, transactional idempotent loads, published snapshots.

One writer process (the CLI) opens ``Warehouse``; readers (API, dashboards, SQL sandbox)
open the *published* snapshot read-only (``open_snapshot``), so a reader never sees a load
half done and never holds the writer's lock.

A load replaces a partition: inside one transaction it deletes the rows of the window
being loaded (a billing period, a collection window) and inserts the new ones, then records
the run in ``ingest_runs``. If anything fails, the transaction rolls back, so the previous
good data stays in place, and a ``failed`` run row records the error.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from finops.bill_compact import rebuild_pending
from finops.changes import Change
from finops.duck import duckdb_settings, registered
from finops.rollups import build_rollups, mark_pending
from finops.snapshot_file import clone_or_copy
from finops.warehouse_lock import (
    DEFAULT_TIMEOUT_S,
    Notify,
    WriterLock,
    remove_leftovers,
)
from models.errors import ConfigError, FinOpsError, WarehouseError
from models.loads import IngestRun, Load, Replace, quiet, table_select
from models.schemas import conform

# The DDL and views ship inside the wheel as finops/sql (pyproject's force-include); in a
# checkout they are the repository's sql/ (one copy, reviewed there).
_PACKAGED_SQL = Path(__file__).resolve().parent / "sql"
SQL_DIR = _PACKAGED_SQL if _PACKAGED_SQL.is_dir() else _PACKAGED_SQL.parent.parent / "sql"
# A frame of fewer rows than one DuckDB row group is inserted on one thread: DuckDB writes a
# row group per thread and merges them, so a second thread only adds the merge (a day's
# allocation at L, 65,812 rows: 0.04-0.07 s on one thread against 0.07-0.12 on two).
ROW_GROUP_ROWS = 122_880
ONE_THREAD = {"threads": "1"}
# A load's rows need no order, which lets DuckDB stream a big insert in parallel without
# buffering to keep the source order.
BULK = {"preserve_insertion_order": "false"}


def _migrations() -> list[tuple[int, Path]]:
    found = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        match = re.match(r"(\d+)_", path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def _views() -> list[tuple[str, str]]:
    """The view files, in the order they are created: (file name, SQL)."""
    return [(path.name, path.read_text()) for path in sorted((SQL_DIR / "views").glob("*.sql"))]


def _digest(views: list[tuple[str, str]]) -> str:
    """One digest of the views' file names and SQL, and of DuckDB's version (which may
    store a view differently)."""
    digest = hashlib.sha256(duckdb.__version__.encode())
    for name, sql in views:
        digest.update(f"\0{name}\0{sql}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class CursorReader:
    """A ``FrameReader`` on one DuckDB connection of the writer's file (``Warehouse.reader``)."""

    con: duckdb.DuckDBPyConnection

    def frame(self, sql: str, params: dict[str, Any] | list[Any] | None = None, *,
              tables: Mapping[str, pl.DataFrame] | None = None) -> pl.DataFrame:
        with registered(self.con, tables or {}):
            return self.con.sql(sql, params=params).pl()


@dataclass(frozen=True)
class Storage:
    """The warehouse file after a CHECKPOINT: its size, and DuckDB's blocks in it (free
    blocks are reused by later writes; the file shrinks only when they are at its end)."""

    file_bytes: int
    block_size: int
    used_blocks: int
    free_blocks: int

    @property
    def free_bytes(self) -> int:
        return self.free_blocks * self.block_size


class Warehouse:
    """The read-write warehouse. Use as a context manager; call ``publish`` after writes.

    Opening it takes the writer lock (``finops.warehouse_lock``): a second writer waits up to
    ``lock_timeout_s`` (``notify`` says what it waits for), then fails with ``WarehouseBusy``.
    """

    def __init__(self, path: Path, *, memory_limit: str = "4GB", snapshot: Path | None = None,
                 lock_timeout_s: float = DEFAULT_TIMEOUT_S, command: str | None = None,
                 notify: Notify | None = None):
        self.path = path
        self._memory_limit = memory_limit
        self.snapshot = snapshot or path.with_name(f"{path.stem}.published.duckdb")
        self.snapshot_made: str | None = None  # how the last publish made it (clone_or_copy)
        self._lock = WriterLock(path, timeout_s=lock_timeout_s, command=command, notify=notify)
        with self._lock.held_unless_opened():
            remove_leftovers(path, self.snapshot, notify)
            try:
                self.con = self._connect()
            except duckdb.Error as exc:
                raise WarehouseError(f"cannot open warehouse {path}: {exc}") from None
            self.migrate()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        return quiet(duckdb.connect(str(self.path),
                                    config={"memory_limit": self._memory_limit, **ARROW_EXPORT}))

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._lock.release()

    # -- schema -----------------------------------------------------------------------
    def schema_version(self) -> int:
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
        )
        row = self.con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        """Apply pending migrations in order, then (re)create the views: when their SQL
        changed, or after a migration (a view binds its tables' columns when created)."""
        current = self.schema_version()
        pending = [(v, path) for v, path in _migrations() if v > current]
        for version, path in pending:
            with self.transaction():
                self.con.execute(path.read_text())
                self.con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, now())", [version, path.name]
                )
        views = _views()
        if pending or self._views_digest() != _digest(views):
            self.create_views(views)
        if pending:  # what a migration marked for building (0011: the compacted bill)
            with self.transaction():
                rebuild_pending(self.con)

    def create_views(self, views: list[tuple[str, str]] | None = None) -> None:
        """(Re)create every view and macro of sql/views in one transaction, and record their
        digest in ``view_set``. Each CREATE is a catalog write DuckDB syncs to disk: run on
        every open, they cost every command ~0.15 s of start-up."""
        views = _views() if views is None else views
        with self.transaction():
            for name, sql in views:
                try:
                    self.con.execute(sql)
                except duckdb.Error as exc:
                    raise WarehouseError(f"{name}: {exc}") from None
            self.con.execute("DELETE FROM view_set")
            self.con.execute("INSERT INTO view_set VALUES (?, now())", [_digest(views)])

    def _views_digest(self) -> str | None:
        """The digest of the views the warehouse holds (None: never recorded)."""
        [(digest,)] = self.con.execute("SELECT max(digest) FROM view_set").fetchall()
        return str(digest) if digest is not None else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- loads ------------------------------------------------------------------------
    def load(self, load: Load, *, check: Callable[[], None] | None = None) -> IngestRun:
        """Replace each partition of ``load`` and record its run, all or nothing.

        One transaction: every partition's rows deleted and the new ones inserted (and the
        days that changed marked, ``finops.changes``), the compacted bill's changed days
        rebuilt (``finops.bill_compact``), then ``check`` (it sees the new rows; if it raises,
        nothing changes), then the run row. Rows are frames or SQL; a stream of
        frames is spooled first (``finops.pipeline``).
        """
        run = load.run
        marks = run.run_id if load.marks_days else None
        with (self.recording(run), self.memory_limit(load.memory_limit),
              duckdb_settings(self.con, BULK), self.transaction()):
            run.rows = sum(self._replace(item, marks) for item in load.replaces)
            rebuild_pending(self.con)
            if check is not None:
                check()
            run.finish("ok")
            self._record(run)
        return run

    def _replace(self, item: Replace, marks: str | None) -> int:
        """Delete the partition ``item`` replaces and insert its rows; returns their count.
        ``marks``: the run whose changed days are recorded (None: none are)."""
        if isinstance(item.rows, str):
            return self._swap(item, item.rows, marks)
        if not isinstance(item.rows, pl.DataFrame):
            raise TypeError("a stream of frames is spooled before the load (finops.pipeline)")
        rows = conform(item.rows, item.table)
        with registered(self.con, {"_incoming": rows}), duckdb_settings(
                self.con, ONE_THREAD if rows.height < ROW_GROUP_ROWS else {}):
            return self._swap(item, table_select(item.table, "_incoming"), marks)

    def _swap(self, item: Replace, select: str, marks: str | None) -> int:
        table = item.table.name
        with self._partition(item, select) as (where, params):
            change = (Change(self.con, item.table, where, params)
                      if marks and item.table.days else None)
            mark_pending(self.con, table, where, params)  # the days it removes …
            self.con.execute(f"DELETE FROM {table} WHERE {where}", params)
            # BY NAME: the SELECT names its columns like the table; missing ones become NULL.
            row = self.con.execute(f"INSERT INTO {table} BY NAME {select}").fetchone()
            inserted = int(row[0]) if row else 0
            mark_pending(self.con, table, where, params)  # … and the days it wrote
            if not item.keys and item.where == "false":  # it only adds, outside any partition
                mark_pending(self.con, table, "true", {}, rows=f"({select})")
            if change is not None and marks is not None:
                change.record(inserted, select, marks)
        return inserted

    @contextmanager
    def _partition(self, item: Replace, select: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The WHERE (and parameters) of the partition ``item`` replaces. With ``keys``, the
        key values its rows hold are read once into a temporary table, so the partition is
        the same before the DELETE and after the INSERT."""
        if not item.keys:
            yield item.where, item.params
            return
        keys = ", ".join(f'"{k}"' for k in item.keys)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _partition_keys AS "
                         f"SELECT DISTINCT {keys} FROM ({select})")
        try:
            yield f"({keys}) IN (SELECT {keys} FROM _partition_keys)", {}
        finally:
            self.con.execute("DROP TABLE IF EXISTS _partition_keys")

    @contextmanager
    def recording(self, run: IngestRun) -> Iterator[None]:
        """A failure inside the block (reading a source, spooling, loading) is recorded as a
        ``failed`` run, then raised: a ``FinOpsError`` as it is, anything else as a
        ``WarehouseError``. Whatever failed, the data loaded before stays as it was."""
        try:
            yield
        except Exception as exc:
            run.finish("failed", str(exc))
            self._record(run)
            if isinstance(exc, FinOpsError):
                raise
            raise WarehouseError(f"load of {run.source} failed, nothing changed: {exc}") from exc

    def _record(self, run: IngestRun) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)",
            [run.run_id, run.source, run.window_start, run.window_end, run.files, run.rows,
             run.checksum, run.status, run.error, run.duration_s],
        )
        if run.delivery is not None:
            self._record_delivery(run)

    def _record_delivery(self, run: IngestRun) -> None:
        """A bill delivery's run: its delivery, its files, and (once it loaded) what it did to
        each billing period; rewritten whole, as the run row is."""
        assert run.delivery is not None
        for table in ("ingest_deliveries", "ingest_files", "ingest_partitions"):
            self.con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run.run_id])
        delivery = run.delivery
        self.con.execute("INSERT INTO ingest_deliveries VALUES (?, ?, ?, ?, ?)",
                         [run.run_id, delivery.kind, delivery.export, delivery.version,
                          delivery.manifest])
        if run.file_records:
            self.con.executemany("INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?)",
                                 [[run.run_id, f.file, f.role, f.sha256, f.bytes, f.rows]
                                  for f in run.file_records])
        if run.status == "ok" and run.partitions:
            self.con.executemany(
                "INSERT INTO ingest_partitions VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[run.run_id, c.source, c.billing_account_id, c.billing_period_start,
                  c.billing_currency, c.action, *c.lines, *c.billed, *c.effective,
                  list(c.replaced_runs), list(c.kept_runs)] for c in run.partitions])

    @contextmanager
    def memory_limit(self, limit: str | None) -> Iterator[None]:
        """Run with DuckDB's memory limit at ``limit`` (None: unchanged), then restore it.
        For work whose memory is mostly outside DuckDB (the Polars engine): DuckDB would
        otherwise keep caching the blocks it read up to its own limit."""
        if limit is None:
            yield
            return
        self.con.execute(f"SET memory_limit = '{_size(limit)}'")
        try:
            yield
        finally:
            self.con.execute(f"SET memory_limit = '{_size(self._memory_limit)}'")

    # -- reads ------------------------------------------------------------------------
    def frame(self, sql: str, params: dict[str, Any] | list[Any] | None = None, *,
              tables: Mapping[str, pl.DataFrame] | None = None) -> pl.DataFrame:
        return CursorReader(self.con).frame(sql, params, tables=tables)

    @contextmanager
    def reader(self) -> Iterator[CursorReader]:
        """A second connection to the same file, for reads on another thread while this
        one writes (it sees committed data only)."""
        cursor = self.con.cursor()
        try:
            yield CursorReader(cursor)
        finally:
            cursor.close()

    @contextmanager
    def outbox(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for the alert outbox (``finops.alerts``): the one table the service
        changes row by row (an alert enqueued once, then marked sent, retried or dead)
        rather than by loading partitions. Its own cursor of the writer, closed after."""
        cursor = self.con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def storage(self) -> Storage:
        """CHECKPOINT (deleted rows' blocks are freed then), then measure the file."""
        self.con.execute("CHECKPOINT")
        [row] = self.con.execute(
            "SELECT block_size, used_blocks, free_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()").fetchall()
        return Storage(self.path.stat().st_size, *(int(v) for v in row))

    # -- publish ----------------------------------------------------------------------
    def publish(self, *, full: bool = False) -> Path:
        """Bring the serving rollups up to date (``finops.rollups``: the days loaded since the
        last publish; every day with ``full``), then write a consistent copy for readers and
        swap it in atomically (``os.replace``): readers keep the file they opened. The copy
        is a clone where the filesystem can (``clone_or_copy``); ``snapshot_made`` says which."""
        build_rollups(self.con, full=full)
        self.con.execute("CHECKPOINT")
        tmp = self.snapshot.with_name(f".{self.snapshot.name}.{os.getpid()}.tmp")
        self.con.close()
        try:
            # FINOPS_PUBLISHED_DIR may name a folder not made yet (a fresh volume's subfolder)
            self.snapshot.parent.mkdir(parents=True, exist_ok=True)
            self.snapshot_made = clone_or_copy(self.path, tmp)
            os.replace(tmp, self.snapshot)
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise WarehouseError(f"cannot write the snapshot {self.snapshot}: "
                                 f"{exc.strerror or exc}{where}; the previous one stays") from None
        finally:
            with contextlib.suppress(OSError):  # none made; a leftover goes at the next open
                tmp.unlink(missing_ok=True)
            self.con = self._connect()
        return self.snapshot


def _size(limit: str) -> str:
    """A DuckDB size such as ``1GB`` or ``512MiB`` (checked: it is pasted into SQL)."""
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]?i?B", limit.strip(), flags=re.IGNORECASE):
        raise ConfigError(f"memory limit {limit!r} is not a size such as 1GB or 512MiB")
    return limit.strip()


# The writer hands results to Polars as Arrow string views (Polars' own string layout): reading
# a day of pod-hours costs ~40% less CPU than converting DuckDB's plain Arrow strings. Not for
# snapshot readers: the FOCUS export streams Arrow to pyarrow's CSV writer, which has no
# string views.
ARROW_EXPORT: dict[str, str | bool] = {"produce_arrow_string_view": True,
                                     "arrow_output_version": "1.5"}


def read_only_config(*, memory_limit: str = "1GB", threads: int = 2,
                     time_limit_ms: int | None = None) -> dict[str, Any]:
    """DuckDB config for every reader: no files, no extensions, no secrets, locked."""
    config: dict[str, Any] = {
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "allow_persistent_secrets": False,
        "memory_limit": memory_limit,
        "threads": threads,
        "max_temp_directory_size": "0GB",
    }
    if time_limit_ms:
        config["max_execution_time"] = time_limit_ms
    config["lock_configuration"] = True
    return config


def open_snapshot(path: Path, **limits: Any) -> duckdb.DuckDBPyConnection:
    """Open the published snapshot read-only with the reader config."""
    if not path.exists():
        raise WarehouseError(
            f"no published warehouse at {path}: run `finops demo --no-serve` or an ingest first"
        )
    try:
        config = read_only_config(**limits)
        del config["lock_configuration"]  # locked once quiet
        con = quiet(duckdb.connect(str(path), read_only=True, config=config))
        con.execute("SET lock_configuration = true")
        return con
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open {path} read-only: {exc}") from None
