"""Snapshot generations for the API: a request keeps the snapshot it started on.

The writer publishes by replacing one file atomically (``Warehouse.publish``). The API must
neither close a connection that requests in flight still use nor simply reopen the path: DuckDB
keeps one database instance per path per process, so a second ``connect`` to the path returns
the instance already open (on the replaced file), or refuses when the configuration differs.
So each *generation* is its own in-memory DuckDB instance that ATTACHes the snapshot file
read-only: attaching opens the file that is current at that moment and keeps that inode open
whatever is published later (measured: ~15 ms to open, one file descriptor per generation).

A request leases the current generation for its whole life (``SnapshotManager.lease``). A new
file, noticed by its signature (inode, mtime_ns, size) checked at most every
``check_interval_s``, becomes the current generation for requests that start afterwards; the
replaced one is closed when its last lease ends.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from finops.warehouse import read_only_config
from models.errors import SnapshotUnavailable
from models.loads import quiet, sql_literal

log = logging.getLogger("finops.api.snapshots")
T = TypeVar("T")
ALIAS = "published"  # the attached snapshot's catalog name; every cursor USEs it
MISSING = "no published warehouse yet: run `finops demo --no-serve` or an ingest first"


@dataclass(frozen=True)
class Signature:
    """What changes when the writer replaces the file (a new inode, at the least)."""

    inode: int
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> Signature | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return cls(stat.st_ino, stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class ReaderLimits:
    memory_limit: str = "512MB"
    threads: int = 2


@dataclass(eq=False)
class Generation:
    """One published snapshot, open read-only, and the requests that use it."""

    number: int
    signature: Signature
    con: duckdb.DuckDBPyConnection
    leases: int = 0
    retired: bool = False
    facts: dict[Hashable, Any] = field(default_factory=dict)

    @property
    def published_at(self) -> float:
        """When the writer published it (the file's mtime, epoch seconds)."""
        return self.signature.mtime_ns / 1e9

    def fact(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A small fact of this snapshot (its data range, a table's columns), computed once:
        a published file never changes, so neither does the answer. Two requests may compute
        it at once; both get the same value."""
        if key not in self.facts:
            self.facts[key] = compute()
        value: T = self.facts[key]
        return value

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one query (a cursor starts in the in-memory catalog)."""
        cursor = self.con.cursor()
        cursor.execute(f"USE {ALIAS}")
        return cursor


def open_generation(path: Path, signature: Signature, number: int,
                    limits: ReaderLimits) -> Generation:
    """Attach the snapshot read-only, then turn file access off and lock the configuration
    (attaching needs file access, so both come after it)."""
    config = read_only_config(memory_limit=limits.memory_limit, threads=limits.threads)
    config.pop("enable_external_access")
    config.pop("lock_configuration")
    con = quiet(duckdb.connect(":memory:", config=config))
    try:
        con.execute(f"ATTACH {sql_literal(str(path))} AS {ALIAS} (READ_ONLY)")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return Generation(number, signature, con)


@dataclass(frozen=True)
class SnapshotStatus:
    generation: int | None
    published_at: float | None
    open_generations: int
    swaps: int


class SnapshotManager:
    """The generations of one snapshot path; thread-safe (requests run in a thread pool)."""

    def __init__(self, path: Path, limits: ReaderLimits | None = None, *,
                 check_interval_s: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._limits = limits or ReaderLimits()
        self._interval = check_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._current: Generation | None = None
        self._open: set[Generation] = set()
        self._checked = float("-inf")
        self._swaps = 0

    @contextmanager
    def lease(self) -> Iterator[Generation]:
        """The current generation, kept open until the block ends."""
        generation = self._acquire()
        try:
            yield generation
        finally:
            self._release(generation)

    def current_number(self) -> int | None:
        """The generation a request starting now would lease (a new publish is looked for as
        ``lease`` does), None when there is none to read."""
        with self._lock:
            try:
                self._refresh()
            except SnapshotUnavailable:
                return None
            return self._current.number if self._current else None

    def status(self) -> SnapshotStatus:
        with self._lock:
            current = self._current
            return SnapshotStatus(current.number if current else None,
                                  current.published_at if current else None,
                                  len(self._open), self._swaps)

    def close(self) -> None:
        """Close every generation (server shutdown; leases still out lose their connection)."""
        with self._lock:
            for generation in self._open:
                generation.con.close()
            self._open.clear()
            self._current = None

    def _acquire(self) -> Generation:
        with self._lock:
            self._refresh()
            if self._current is None:
                raise SnapshotUnavailable(MISSING, f"expected at {self.path}")
            self._current.leases += 1
            return self._current

    def _release(self, generation: Generation) -> None:
        with self._lock:
            generation.leases -= 1
            self._close_if_idle(generation)

    def _refresh(self) -> None:
        now = self._clock()
        if self._current is not None and now - self._checked < self._interval:
            return
        self._checked = now
        signature = Signature.of(self.path)
        if signature is None or (self._current and self._current.signature == signature):
            return  # nothing published, or nothing new (a vanished file: keep serving the last)
        try:
            fresh = open_generation(self.path, signature, next(self._numbers), self._limits)
        except duckdb.Error as exc:
            self._unreadable(exc)
            return
        self._swap(fresh)

    def _unreadable(self, exc: duckdb.Error) -> None:
        log.warning("cannot open the published snapshot %s: %s", self.path, exc)
        if self._current is None:
            raise SnapshotUnavailable("the published warehouse cannot be read",
                                      f"{self.path}: {exc}") from None

    def _swap(self, fresh: Generation) -> None:
        old, self._current = self._current, fresh
        self._open.add(fresh)
        if old is not None:
            self._swaps += 1
            old.retired = True
            self._close_if_idle(old)
        log.info("snapshot generation %d (inode %d) is current", fresh.number,
                 fresh.signature.inode)

    def _close_if_idle(self, generation: Generation) -> None:
        if generation.retired and generation.leases == 0:
            generation.con.close()
            self._open.discard(generation)


def published_age_s(path: Path) -> float | None:
    """Seconds since the file at ``path`` was published, None when there is none."""
    signature = Signature.of(path)
    return None if signature is None else time.time() - signature.mtime_ns / 1e9
