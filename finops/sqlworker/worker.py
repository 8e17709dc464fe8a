"""One SQL worker process: ``python -m finops.sqlworker.worker '<WorkerSpec JSON>'``.

Started by the pool with a bare environment (no secret of the server reaches it), in its own
session (a Ctrl-C on the server's terminal is the server's to handle). It lowers its CPU
priority, caps its memory, says it is ready, then answers one job at a time until its stdin
closes. Every error of a job becomes a reply: the worker only ends when the pool closes the
pipe or kills it.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import duckdb

from finops.sqlworker import protocol
from finops.sqlworker.gate import check_single_select
from finops.sqlworker.protocol import Job, WorkerSpec
from finops.sqlworker.values import encode_row
from models.errors import QueryRejected

# Queries yield the CPU to the API process (every other route) when both want it.
WORKER_NICENESS = 10
JOB_LIMIT = 16 << 20  # a pickled job: SQL text (capped by the pool's owner) and parameters
FIRST_BATCH = 16
MAX_BATCH = 256


class Stop(Exception):
    """A job ends without rows; ``kind`` is the reply's kind (see ``protocol``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Session:
    """The read-only connection of this worker, reopened when the snapshot is replaced."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.path = Path(spec.snapshot)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._identity: tuple[int, int, int] | None = None

    def connection(self) -> duckdb.DuckDBPyConnection:
        identity = self._snapshot_identity()
        if self._con is None or identity != self._identity:
            self.close()
            try:
                self._con = duckdb.connect(str(self.path), read_only=True,
                                           config=self.spec.duckdb_config)
            except duckdb.Error as exc:
                raise Stop("warehouse", f"cannot open {self.path} read-only: {exc}") from None
            self._identity = identity
        return self._con

    def warm(self) -> None:
        """Open the snapshot before the first job if it is there (a missing one is reported
        to the job that needs it)."""
        try:
            self.connection()
        except Stop:
            pass

    def _snapshot_identity(self) -> tuple[int, int, int]:
        # A publish is an os.replace: a new inode, so a new identity even within one mtime tick.
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise Stop("warehouse", f"no published warehouse at {self.path}: run "
                       "`finops demo --no-serve` or an ingest first") from None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def answer(self, job: Job) -> dict[str, Any]:
        try:
            check_single_select(job.sql)
            return self._run(job)
        except Stop as stop:
            return _failure(stop.kind, str(stop))
        except Exception as exc:  # noqa: BLE001 — every failure of a job is a reply
            return _failure(*_classify(exc))

    def _run(self, job: Job) -> dict[str, Any]:
        con = self.connection()
        # DuckDB's own max_execution_time is set too; the pool kills us if neither lands.
        watchdog = threading.Timer(self.spec.time_limit_ms / 1000, con.interrupt)
        watchdog.start()
        try:
            con.execute(job.sql, job.params)
            description = con.description or []
            rows, truncated_by = fetch(con, job.max_rows, job.max_bytes)
        finally:
            watchdog.cancel()
        return {"ok": True, "columns": [d[0] for d in description],
                "types": [str(d[1]) for d in description], "rows": rows,
                "truncated": truncated_by is not None, "truncated_by": truncated_by}


def fetch(con: duckdb.DuckDBPyConnection, max_rows: int,
          max_bytes: int) -> tuple[list[list[Any]], str | None]:
    """Encoded rows up to ``max_rows`` and ``max_bytes`` of JSON, and what cut them, if
    anything. Batches shrink as rows grow, so a few huge rows are never fetched at once."""
    rows: list[list[Any]] = []
    size, batch = 0, FIRST_BATCH
    while raw_rows := con.fetchmany(batch):
        for raw in raw_rows:
            if len(rows) == max_rows:
                return rows, "rows"
            row = encode_row(raw)
            size += _json_size(row, max_bytes - size)
            if size > max_bytes:
                if not rows:
                    raise Stop("rejected", f"the first row of the result alone is over the "
                               f"result cap of {max_bytes} bytes: select fewer or shorter "
                               "columns")
                return rows, "bytes"
            rows.append(row)
        by_size = (max_bytes - size) * len(rows) // max(size, 1)  # rows the budget still fits
        batch = max(1, min(MAX_BATCH, by_size, max_rows + 1 - len(rows)))
    return rows, None


def _json_size(row: list[Any], budget: int) -> int:
    # A single text or base64 value over the whole budget is over it without encoding it again.
    longest = max((len(v) for v in row if isinstance(v, str)), default=0)
    if longest > budget:
        return longest
    return len(json.dumps(row, ensure_ascii=False).encode("utf-8"))


def _classify(exc: Exception) -> tuple[str, str]:
    detail = str(exc).split("\n", 1)[0]
    if isinstance(exc, duckdb.InterruptException):
        return "timeout", detail
    if isinstance(exc, duckdb.OutOfMemoryException | MemoryError):
        return "memory", detail or "out of memory"
    if isinstance(exc, QueryRejected):
        return "rejected", str(exc)
    return "rejected", f"{type(exc).__name__}: {exc}"


def _failure(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "kind": kind, "message": message}


def cap_memory(megabytes: int) -> None:
    """RLIMIT_DATA, not RLIMIT_AS: DuckDB reserves ~700 MB of address space it never touches,
    while the data limit counts the heap and private mappings a query actually fills."""
    limit = megabytes << 20
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _reply_channel() -> int:
    # Replies get a private copy of stdout; fd 1 then points at stderr, so a stray print (from
    # any library) lands in the server log instead of corrupting a frame.
    channel = os.dup(1)
    os.dup2(2, 1)
    return channel


def serve(spec: WorkerSpec, jobs: int, replies: int) -> None:
    """Answer jobs until the pool closes the pipe (a closed pipe is the only way to end)."""
    session = Session(spec)
    session.warm()
    try:
        protocol.send(replies, b'{"ready": true}')
        while True:
            reply = session.answer(pickle.loads(protocol.receive(jobs, limit=JOB_LIMIT)))
            protocol.send(replies, _reply_bytes(reply))
    except (protocol.PeerClosed, BrokenPipeError):
        pass
    finally:
        session.close()


def _reply_bytes(reply: dict[str, Any]) -> bytes:
    try:
        return json.dumps(reply, ensure_ascii=False).encode("utf-8")
    except MemoryError:
        return json.dumps(_failure("memory", "out of memory while encoding the result")).encode()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    spec = WorkerSpec.from_json(args[0])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(WORKER_NICENESS)
    replies = _reply_channel()
    cap_memory(spec.memory_cap_mb)
    serve(spec, sys.stdin.fileno(), replies)


if __name__ == "__main__":
    main()
