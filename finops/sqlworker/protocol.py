"""What crosses the pipes between the pool and a worker, and how.

A frame is a 4-byte big-endian length and that many bytes. The pool sends the worker's
``WorkerSpec`` as JSON on its command line, then one pickled ``Job`` per query (the pool is the
trusted side: a job may carry dates as bound parameters). The worker answers each job with one
JSON reply: it ran untrusted SQL, so nothing it sends is unpickled, and a reply longer than the
pool allows is never read.

Replies: ``{"ok": true, "columns", "types", "rows", "truncated", "truncated_by"}`` or
``{"ok": false, "kind": "rejected" | "timeout" | "memory" | "warehouse", "message"}``; the
first frame a worker writes is ``{"ready": true}``.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from dataclasses import asdict, dataclass, field
from typing import Any

HEADER = struct.Struct(">I")


class FrameError(Exception):
    """The other side closed the pipe, sent too much, or did not answer in time."""


class PeerClosed(FrameError):
    pass


class FrameTooLarge(FrameError):
    pass


class DeadlinePassed(FrameError):
    pass


@dataclass(frozen=True)
class WorkerSpec:
    """How a worker opens the snapshot and what it may use (built by the pool's owner)."""

    snapshot: str
    duckdb_config: dict[str, Any]
    memory_cap_mb: int
    time_limit_ms: int

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Job:
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    max_rows: int = 1000
    max_bytes: int = 8_000_000


def send(fd: int, payload: bytes) -> None:
    view = memoryview(HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def receive(fd: int, *, limit: int, deadline: float | None = None) -> bytes:
    """One frame of at most ``limit`` bytes, by ``deadline`` (``time.monotonic``) if given."""
    (size,) = HEADER.unpack(_read_exactly(fd, HEADER.size, deadline))
    if size > limit:
        raise FrameTooLarge(f"a frame of {size} bytes is over the limit of {limit}")
    return _read_exactly(fd, size, deadline)


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    missing = size
    while missing:
        _wait_readable(fd, deadline)
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise PeerClosed("the pipe was closed")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _wait_readable(fd: int, deadline: float | None) -> None:
    if deadline is None:
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
        raise DeadlinePassed("no answer in time")
