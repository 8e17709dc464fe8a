"""The delivery journal: each outcome written to a file the moment it is known, outside the
warehouse, so that posting never holds the warehouse's writer lock.

``budgets check --send`` claims messages under the lock, releases it, and appends one JSON
line per outcome here (flushed and fsynced) while it posts; then it takes the lock again and
applies the journal to the outbox. A run killed in between leaves the journal behind: the
next run applies it first, and the messages it claimed but never journaled stay ``sending``,
to be looked up (Slack: by the alert key in their metadata) before anything is sent again.

One delivery runs at a time per warehouse (``DeliveryLock``: an ``flock`` on
``<db>.delivery.lock``, released by the kernel if the process dies).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from models.errors import WarehouseBusy

POLL_S = 0.2


def journal_path(db: Path) -> Path:
    return db.with_name(db.name + ".alerts-journal")


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, entry: dict[str, Any]) -> None:
        with self.path.open("a") as out:
            out.write(json.dumps(entry, default=str) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text().splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by a kill: its outcome is looked up instead
        return entries

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


class DeliveryLock:
    """``with DeliveryLock(db, timeout_s): …``: one delivering run per warehouse."""

    def __init__(self, db: Path, timeout_s: float) -> None:
        self.path = db.with_name(db.name + ".delivery.lock")
        self.timeout_s = timeout_s
        self._handle: IO[str] | None = None

    def __enter__(self) -> DeliveryLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    raise WarehouseBusy(
                        f"another `budgets check --send` is delivering alerts of {self.path.stem}"
                        f" (waited {self.timeout_s:g}s, FINOPS_LOCK_TIMEOUT_S)") from None
                time.sleep(POLL_S)
        self._handle = handle
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
