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

import hashlib
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from finops.errors import ConfigError, FinOpsError, WarehouseError
from finops.warehouse_lock import (
    DEFAULT_TIMEOUT_S,
    Notify,
    WriterLock,
    remove_leftovers,
    spool_prefix,
)
from models.schemas import MAP, Table, conform

# The DDL and views ship inside the wheel as finops/sql (pyproject's force-include); in a
# checkout they are the repository's sql/ (one copy, reviewed there).
_PACKAGED_SQL = Path(__file__).resolve().parent / "sql"
SQL_DIR = _PACKAGED_SQL if _PACKAGED_SQL.is_dir() else _PACKAGED_SQL.parent.parent / "sql"
Rows = pl.DataFrame | Iterable[pl.DataFrame] | str


@dataclass
class Replace:
    """Rows for one table, replacing whatever matches ``where`` (bound with ``params``).

    ``rows`` is a frame, an iterator of frames (streamed batch by batch), or a SQL SELECT
    that DuckDB runs itself (for loads that are faster as a scan, e.g. Parquet bills).
    """

    table: Table
    rows: Rows
    where: str = "false"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestRun:
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


def new_run_id(source: str) -> str:
    return f"{source}-{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def file_checksum(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _migrations() -> list[tuple[int, Path]]:
    found = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        match = re.match(r"(\d+)_", path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def _select_list(table: Table, relation: str) -> str:
    """Columns of ``relation`` cast to the table's types; label lists become MAPs."""
    parts = []
    for name, dtype in table.schema.items():
        expr = f'map_from_entries("{name}")' if dtype == MAP else f'"{name}"'
        parts.append(expr)
    return f"SELECT {', '.join(parts)} FROM {relation}"


@dataclass(frozen=True)
class Reader:
    """Reads as Polars frames on one DuckDB connection (see ``Warehouse.reader``)."""

    con: duckdb.DuckDBPyConnection

    def frame(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> pl.DataFrame:
        return self.con.sql(sql, params=params).pl()


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
        self._lock = WriterLock(path, timeout_s=lock_timeout_s, command=command, notify=notify)
        with self._lock.held_unless_opened():
            remove_leftovers(path, self.snapshot, notify)
            try:
                self.con = self._connect()
            except duckdb.Error as exc:
                raise WarehouseError(f"cannot open warehouse {path}: {exc}") from None
            self.migrate()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path),
                              config={"memory_limit": self._memory_limit, **ARROW_EXPORT})

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
        """Apply pending migrations in order, then (re)create every view."""
        current = self.schema_version()
        for version, path in _migrations():
            if version > current:
                with self.transaction():
                    self.con.execute(path.read_text())
                    self.con.execute(
                        "INSERT INTO schema_version VALUES (?, ?, now())", [version, path.name]
                    )
        self.create_views()

    def create_views(self) -> None:
        for path in sorted((SQL_DIR / "views").glob("*.sql")):
            try:
                self.con.execute(path.read_text())
            except duckdb.Error as exc:
                raise WarehouseError(f"{path.name}: {exc}") from None

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
    def _insert(self, table: Table, rows: Rows, target: str | None = None) -> int:
        target = target or table.name
        if isinstance(rows, str):
            before = self._count(target)
            # BY NAME: the SELECT names its columns like the table; missing ones become NULL.
            self.con.execute(f"INSERT INTO {target} BY NAME {rows}")
            return self._count(target) - before
        batches = [rows] if isinstance(rows, pl.DataFrame) else rows
        total = 0
        for batch in batches:
            arrow: pa.Table = conform(batch, table).to_arrow()
            self.con.register("_incoming", arrow)
            try:
                self.con.execute(f"INSERT INTO {target} {_select_list(table, '_incoming')}")
            finally:
                self.con.unregister("_incoming")
            total += arrow.num_rows
        return total

    def _count(self, table: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def load(self, run: IngestRun, replaces: list[Replace]) -> IngestRun:
        """Replace each partition and record the run, all or nothing."""
        started = time.monotonic()
        try:
            with self.transaction():
                for item in replaces:
                    delete = f"DELETE FROM {item.table.name} WHERE {item.where}"
                    self.con.execute(delete, item.params)
                    run.rows += self._insert(item.table, item.rows)
                run.status, run.duration_s = "ok", time.monotonic() - started
                self._record(run)
        except Exception as exc:
            self._fail(run, exc, started)
        return run

    def load_staged(self, run: IngestRun, table: Table, rows: Rows, keys: tuple[str, ...], *,
                    memory_limit: str | None = None) -> IngestRun:
        """Replace every partition (distinct ``keys``) the rows touch, all or nothing.

        For sources whose partitions are only known after reading, e.g. a CUR delivery
        restating (billing account, billing period): the newest delivery replaces the
        previous one atomically, and a failure anywhere leaves the old rows in place. The
        rows may be more than fit in memory (a 4.6M-line GCP export in batches): they go
        through a spool (``_via_stage``), with DuckDB at ``memory_limit`` meanwhile (the
        batches are built in Polars; at the writer's 4GB, the final copy alone cached
        ~1.8 GB for 4.6M rows). A SQL SELECT is staged by DuckDB itself in a temporary table,
        inside the same transaction (it streams a SELECT to disk as it goes).
        """
        key_list = ", ".join(keys)
        delete = (f"DELETE FROM {table.name} WHERE ({key_list}) IN "
                  f"(SELECT DISTINCT {key_list} FROM {{stage}})")
        with self.memory_limit(memory_limit):
            if isinstance(rows, str):
                return self._staged_select(run, table, rows, delete)
            batches = [rows] if isinstance(rows, pl.DataFrame) else rows
            return self._via_stage(run, table, batches, delete, {})

    def _staged_select(self, run: IngestRun, table: Table, select: str,
                       delete: str) -> IngestRun:
        started = time.monotonic()
        try:
            with self.transaction():
                self.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT * FROM {table.name} LIMIT 0"
                )
                run.rows = self._insert(table, select, target="_stage")
                self.con.execute(delete.format(stage="_stage"))
                self.con.execute(f"INSERT INTO {table.name} SELECT * FROM _stage")
                self.con.execute("DROP TABLE _stage")
                run.status, run.duration_s = "ok", time.monotonic() - started
                self._record(run)
        except Exception as exc:
            self._fail(run, exc, started)
        return run

    def replace_streamed(self, run: IngestRun, item: Replace,
                         check: Callable[[], None] | None = None) -> IngestRun:
        """``load`` of one ``Replace`` whose rows are many batches (a month of allocation):
        the same all-or-nothing result, through a spool (``_via_stage``). ``check`` runs
        inside the transaction once the rows are in (it sees them); if it raises, nothing
        changes."""
        batches = [item.rows] if isinstance(item.rows, pl.DataFrame) else item.rows
        if isinstance(batches, str):
            return self.load(run, [item])  # DuckDB streams a SELECT by itself
        delete = f"DELETE FROM {item.table.name} WHERE {item.where}"
        return self._via_stage(run, item.table, batches, delete, item.params, check)

    def _via_stage(self, run: IngestRun, table: Table, batches: Iterable[pl.DataFrame],
                   delete: str, params: dict[str, Any],
                   check: Callable[[], None] | None = None) -> IngestRun:
        """Spool each batch to a Parquet file beside the warehouse (memory: one batch), then
        in ONE transaction run ``delete`` (``{stage}`` names the spooled rows) and insert
        the spooled rows with one ``INSERT … SELECT``, which DuckDB streams to disk (one
        transaction appending millions of rows batch by batch keeps them all in memory, ~1 KB
        a row with tags; a scratch table instead writes every row twice). ``table`` is
        untouched until that transaction; a failure anywhere (a bad row in the last batch)
        leaves the previous data, records a ``failed`` run and removes the spool."""
        started = time.monotonic()
        spool = Path(tempfile.mkdtemp(prefix=spool_prefix(self.path), dir=self.path.parent))
        stage = f"read_parquet({sql_literal(str(spool / '*.parquet'))})"
        try:
            table.empty().write_parquet(spool / "000000.parquet")  # the glob always matches
            run.rows = 0
            for number, batch in enumerate(batches, start=1):
                rows = conform(batch, table)
                rows.write_parquet(spool / f"{number:06d}.parquet", compression="lz4")
                run.rows += rows.height
            with self.bulk(), self.transaction():
                self.con.execute(delete.format(stage=stage), params)
                self.con.execute(f"INSERT INTO {table.name} {_select_list(table, stage)}")
                if check is not None:
                    check()
                run.status, run.duration_s = "ok", time.monotonic() - started
                self._record(run)
        except Exception as exc:
            self._fail(run, exc, started)
        finally:
            shutil.rmtree(spool, ignore_errors=True)
        return run

    def load_partitions(self, run: IngestRun, table: Table, select_sql: str, keys_sql: str,
                        ) -> IngestRun:
        """Replace the partitions ``keys_sql`` names with the rows of ``select_sql``, streamed.

        The fast path for big scans (a 10M-line CUR month): ``keys_sql`` is a cheap
        ``SELECT DISTINCT`` over the source giving the partition key tuples, its columns named
        like the table's key columns; ``select_sql`` names its columns like the table (missing
        ones become NULL) and must only yield rows of those partitions (build both from the
        same expressions). Inside ONE transaction: delete those partitions, ``INSERT … BY
        NAME`` the SELECT directly (DuckDB streams it; no staging copy), record the run. A
        failure rolls back: the previous data stays, a ``failed`` run row is recorded.
        """
        started = time.monotonic()
        try:
            with self.bulk(), self.transaction():
                cursor = self.con.execute(keys_sql)
                names = [d[0] for d in cursor.description or []]
                keys = cursor.fetchall()
                where = " AND ".join(f'"{n}" IS NOT DISTINCT FROM ?' for n in names)
                for key in keys:
                    self.con.execute(f"DELETE FROM {table.name} WHERE {where}", list(key))
                inserted = self.con.execute(f"INSERT INTO {table.name} BY NAME {select_sql}")
                row = inserted.fetchone()
                run.rows = int(row[0]) if row else 0
                run.status, run.duration_s = "ok", time.monotonic() - started
                self._record(run)
        except Exception as exc:
            self._fail(run, exc, started)
        return run

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Settings for one big insert: rows need no order, which lets DuckDB stream the
        insert in parallel without buffering to keep the source order."""
        self.con.execute("SET preserve_insertion_order = false")
        try:
            yield
        finally:
            self.con.execute("RESET preserve_insertion_order")

    def _fail(self, run: IngestRun, exc: Exception, started: float) -> None:
        run.status, run.error = "failed", str(exc)
        run.duration_s = time.monotonic() - started
        self._record(run)
        if isinstance(exc, FinOpsError):
            raise exc
        raise WarehouseError(f"load of {run.source} failed, nothing changed: {exc}") from exc

    def _record(self, run: IngestRun) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)",
            [run.run_id, run.source, run.window_start, run.window_end, run.files, run.rows,
             run.checksum, run.status, run.error, run.duration_s],
        )

    def record_failure(self, run: IngestRun, error: str) -> None:
        """Record a run that failed before it reached ``load`` (e.g. unreadable input)."""
        run.status, run.error = "failed", error
        self._record(run)

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
    def frame(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> pl.DataFrame:
        return Reader(self.con).frame(sql, params)

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        """A second connection to the same file, for reads on another thread while this
        one writes (it sees committed data only)."""
        cursor = self.con.cursor()
        try:
            yield Reader(cursor)
        finally:
            cursor.close()

    # -- publish ----------------------------------------------------------------------
    def publish(self) -> Path:
        """Write a consistent copy for readers and swap it in atomically (``os.replace``)."""
        self.con.execute("CHECKPOINT")
        tmp = self.snapshot.with_name(f".{self.snapshot.name}.{os.getpid()}.tmp")
        self.con.close()
        try:
            shutil.copyfile(self.path, tmp)
            os.replace(tmp, self.snapshot)
        finally:
            tmp.unlink(missing_ok=True)
            self.con = self._connect()
        return self.snapshot


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal (for what DuckDB takes no parameter for: file paths in
    ``read_parquet``, names inside generated SQL)."""
    return "'" + text.replace("'", "''") + "'"


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
        return duckdb.connect(str(path), read_only=True, config=read_only_config(**limits))
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open {path} read-only: {exc}") from None
