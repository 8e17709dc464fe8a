"""One writer at a time, queued: a lock file beside the warehouse (``<db>.lock``).

DuckDB refuses a second read-write open of a file at once, so without this a second writer
(``ingest`` while ``allocate`` runs) failed immediately. Writers instead take an exclusive
``fcntl.flock`` on ``<db>.lock`` and wait for it, up to a timeout. The kernel releases a flock
when its holder dies (``kill -9`` included), so a lock is never stale and nobody has to clean
it up. The file also carries a holder record (pid, command, since) so a waiting writer can say
what it waits for; the record is informational, the flock is the lock.

While holding the lock a writer also removes what a killed writer of the same warehouse left
behind (``remove_leftovers``): spool directories of an interrupted load and the temporary copy
of an interrupted publish. Only the lock holder may do this, since only it knows that no
other writer of this warehouse is running.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from models.errors import WarehouseBusy

DEFAULT_TIMEOUT_S = 300.0
POLL_S = 0.2
Notify = Callable[[str], None]

# Locks this process holds, by lock file: a second open of the same warehouse in the same
# process would wait for itself, so it fails at once instead. Weak: a Warehouse dropped without
# ``close`` frees its entry (and its file, hence the flock) when it is collected.
_HELD: weakref.WeakValueDictionary[Path, WriterLock] = weakref.WeakValueDictionary()


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def spool_prefix(db: Path) -> str:
    """Spool directories of ``db``'s loads start with this (beside the db): the name of the
    db is in it so that a writer cleans only its own warehouse's leftovers."""
    return f".finops-spool-{db.name}-"


def command_line() -> str:
    """What this process is, for the holder record (``finops allocate --start …``)."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if name in ("__main__.py", "-m", "-c"):
        name = "finops" if "finops" in sys.argv[0] else "python"
    return " ".join([name, *sys.argv[1:]])


class WriterLock:
    """``with WriterLock(db, timeout_s=60, notify=print): …`` holds ``<db>.lock``."""

    def __init__(self, db: Path, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 command: str | None = None, notify: Notify | None = None) -> None:
        self.db = db
        self.path = lock_path(db).absolute()
        self.timeout_s = timeout_s
        self.command = command or command_line()
        self._notify = notify or (lambda message: print(message, file=sys.stderr))
        self._handle: IO[str] | None = None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        if self.path in _HELD:
            raise WarehouseBusy(f"warehouse {self.db} is already open for writing in this "
                                "process (close the first Warehouse before opening another)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")  # created if missing, never truncated by opening
        try:
            if not _try_lock(handle):
                self._wait(handle)
            _write_holder(handle, self.command)
        except BaseException:
            handle.close()
            raise
        self._handle = handle
        _HELD[self.path] = self

    @contextmanager
    def held_unless_opened(self) -> Iterator[None]:
        """Acquire; if the block (opening the warehouse) fails, release again."""
        self.acquire()
        try:
            yield
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        _HELD.pop(self.path, None)
        try:
            handle.truncate(0)  # nobody holds it now: no record to show
        finally:
            handle.close()  # closing the descriptor releases the flock

    def _wait(self, handle: IO[str]) -> None:
        self._notify(f"Waiting for the warehouse {self.db}: another writer holds it, "
                     f"{read_holder(self.path)} (waiting up to {self.timeout_s:g}s, "
                     "FINOPS_LOCK_TIMEOUT_S)")
        deadline = time.monotonic() + self.timeout_s
        while not _try_lock(handle):
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"warehouse {self.db} is still held by {read_holder(self.path)} after "
                    f"waiting {self.timeout_s:g}s; try again when it is done, or raise "
                    "FINOPS_LOCK_TIMEOUT_S")
            time.sleep(POLL_S)
        self._notify(f"Got the warehouse {self.db} after waiting.")


class CycleLock:
    """``with CycleLock(db): …`` holds ``<db>.cycle.lock`` for a whole ``finops run`` cycle.

    On top of the writer lock, which each stage of a cycle takes and releases: two cycles
    never interleave their stages. A second cycle does not wait for the first (it would only
    repeat its work): it fails at once, naming the cycle that runs.
    """

    def __init__(self, db: Path, command: str | None = None) -> None:
        self.db = db
        self.path = db.with_name(db.name + ".cycle.lock").absolute()
        self.command = command or command_line()
        self._handle: IO[str] | None = None

    def __enter__(self) -> CycleLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        if not _try_lock(handle):
            handle.close()
            raise WarehouseBusy(f"another cycle of {self.db} is running: "
                                f"{read_holder(self.path)}; this cycle did not start")
        _write_holder(handle, self.command)
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            handle.truncate(0)
            handle.close()


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _write_holder(handle: IO[str], command: str) -> None:
    record = {"pid": os.getpid(), "command": command,
              "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")}
    handle.truncate(0)
    handle.write(json.dumps(record) + "\n")
    handle.flush()


def read_holder(path: Path) -> str:
    """The holder record as words: ``pid 4711 (finops allocate …, since …)``."""
    try:
        record = json.loads(path.read_text() or "null")
    except (OSError, ValueError):
        record = None
    if not isinstance(record, dict):
        return "a writer that has not said who it is yet"
    return f"pid {record.get('pid')} ({record.get('command')}, since {record.get('since')})"


def remove_leftovers(db: Path, snapshot: Path, notify: Notify | None = None) -> list[Path]:
    """Remove the spools and publish copies a killed writer of ``db`` left. Call only while
    holding ``db``'s lock. Returns what was removed."""
    found = list(db.parent.glob(spool_prefix(db) + "*"))
    found += snapshot.parent.glob(f".{snapshot.name}.*.tmp")
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        if notify is not None:
            notify(f"Removed {path}, left behind by an interrupted run.")
    return found
