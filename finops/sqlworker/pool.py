"""A bounded pool of pre-started SQL workers with a bounded queue in front of it.

``run(job)`` takes an idle worker (waiting in the queue if all are busy; refused with
``SandboxBusy`` if the queue is full too), sends the job and waits for the reply until the time
limit plus the grace. A worker that has not answered by then is killed, whatever it is doing,
and replaced at once; so is one that died, and one whose allocator kept more than half its
memory cap after a query (the next query would get less room than the cap promises). The
caller gets the reply, or a ``FinOpsError`` that says which limit stopped the query.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from finops.settings import SqlSettings
from finops.sqlworker import protocol
from finops.sqlworker.protocol import Job, WorkerSpec
from models.errors import (
    FinOpsError,
    QueryMemoryExceeded,
    QueryRejected,
    QueryTimeout,
    SandboxBusy,
    SandboxUnavailable,
    WarehouseError,
)

log = logging.getLogger("finops.sqlworker")

# What a worker inherits from the server's environment: enough to run Python, never a secret.
WORKER_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "VIRTUAL_ENV")
PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
STARTUP_TIMEOUT_S = 30.0
REPLY_OVERHEAD = 64 << 10  # columns, types and framing around the capped rows


def time_limit_error(sql: SqlSettings, *, killed: bool) -> QueryTimeout:
    return QueryTimeout(f"query exceeded the time limit of {sql.time_limit_ms} ms and was "
                        "stopped", killed=killed)


def memory_limit_error(sql: SqlSettings, detail: str) -> QueryMemoryExceeded:
    return QueryMemoryExceeded(f"query exceeded the memory limit of {sql.memory_cap_mb} MiB "
                               f"and was stopped ({detail})")


def worker_died_error(sql: SqlSettings, how: str) -> QueryMemoryExceeded:
    # Nothing but the memory cap (or the kernel's OOM killer) ends a worker in mid-query.
    return QueryMemoryExceeded(f"the query's worker process died ({how}): most likely the query "
                               f"exceeded the memory limit of {sql.memory_cap_mb} MiB",
                               killed=True)


def reply_error(reply: dict[str, Any], sql: SqlSettings) -> FinOpsError:
    """The error a worker reported (it stopped the query itself; nothing was killed)."""
    kind, message = reply.get("kind"), str(reply.get("message"))
    if kind == "timeout":
        return time_limit_error(sql, killed=False)
    if kind == "memory":
        return memory_limit_error(sql, message)
    if kind == "warehouse":
        return WarehouseError(message)
    return QueryRejected(message)


class Worker:
    """One worker process and its two pipes."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "finops.sqlworker.worker", spec.to_json()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=worker_env(),
            start_new_session=True)
        self.ready = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def await_ready(self, timeout_s: float) -> None:
        if not self.ready:
            protocol.receive(self._replies, limit=1024, deadline=time.monotonic() + timeout_s)
            self.ready = True

    def ask(self, job: Job, *, timeout_s: float, limit: int) -> dict[str, Any]:
        protocol.send(self._jobs, pickle.dumps(job))
        reply = protocol.receive(self._replies, limit=limit,
                                 deadline=time.monotonic() + timeout_s)
        answer: dict[str, Any] = json.loads(reply)
        return answer

    def data_bytes(self) -> int:
        """What counts against its cap (RLIMIT_DATA): heap and private mappings."""
        try:
            return int(psutil.Process(self.pid).memory_info().data)
        except psutil.Error:
            return 0

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._close_pipes()

    def how_it_ended(self) -> str:
        try:
            code = self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            self.kill()
            return "it stopped answering and was killed"
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"

    @property
    def _jobs(self) -> int:
        assert self.process.stdin is not None
        return self.process.stdin.fileno()

    @property
    def _replies(self) -> int:
        assert self.process.stdout is not None
        return self.process.stdout.fileno()

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None and not pipe.closed:
                try:
                    pipe.close()
                except OSError:
                    pass  # a broken pipe to a dead worker has nothing left to flush


def worker_env() -> dict[str, str]:
    env = {name: os.environ[name] for name in WORKER_ENV if name in os.environ}
    # The package may run from a checkout that is not installed: the worker imports it too.
    path = [str(PACKAGE_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(path)
    return env


class WorkerPool:
    """``sql.workers`` pre-started workers, ``sql.queue`` waiting places in front of them.

    The idle queue holds workers, or ``None`` for a place whose worker could not be started
    (or was stopped by ``close``): whoever takes it starts one, or learns why it cannot.
    """

    def __init__(self, spec: WorkerSpec, sql: SqlSettings) -> None:
        self.spec = spec
        self.sql = sql
        self._idle: queue.Queue[Worker | None] = queue.Queue()
        self._places = threading.BoundedSemaphore(sql.workers + sql.queue)
        self._workers: set[Worker] = set()
        self._lock = threading.Lock()
        self._started = False
        # The longest a queued query can wait for a worker: every query ahead of it killed at
        # its limit, plus one worker start.
        self._max_wait_s = ((sql.queue // sql.workers + 1) * self.kill_after_s
                            + STARTUP_TIMEOUT_S)

    @property
    def kill_after_s(self) -> float:
        return (self.sql.time_limit_ms + self.sql.grace_ms) / 1000

    @property
    def retry_after_s(self) -> int:
        """How long a refused caller should wait: about one query's worst case."""
        return max(1, math.ceil(self.kill_after_s))

    def start(self) -> None:
        """Start the workers now (they get ready in the background); idempotent."""
        with self._lock:
            if self._started:
                return
            self._started = True
            for _ in range(self.sql.workers):
                self._idle.put(self._spawn_locked())

    def pids(self) -> list[int]:
        with self._lock:
            return sorted(worker.pid for worker in self._workers)

    def run(self, job: Job) -> dict[str, Any]:
        """The worker's successful reply (see ``protocol``), or the ``FinOpsError`` that
        stopped the query."""
        self.start()
        if not self._places.acquire(blocking=False):
            raise SandboxBusy(f"all {self.sql.workers} SQL workers are busy and {self.sql.queue} "
                              "queries are waiting: try again shortly",
                              retry_after_s=self.retry_after_s)
        try:
            return self._run_on_idle_worker(job)
        finally:
            self._places.release()

    def close(self) -> None:
        """Kill every worker; callers waiting in the queue get ``SandboxUnavailable``."""
        with self._lock:
            workers, self._workers = list(self._workers), set()
            self._started = False
            waiting, self._idle = self._idle, queue.Queue()
        for _ in range(self.sql.workers + self.sql.queue):
            waiting.put(None)
        for worker in workers:
            worker.kill()  # a read-only worker holds nothing worth a graceful exit

    def _run_on_idle_worker(self, job: Job) -> dict[str, Any]:
        worker = self._take()
        try:
            self._make_ready(worker)
            reply = self._ask(worker, job)
        except BaseException:
            self._replace(worker)
            raise
        if worker.data_bytes() > (self.sql.memory_cap_mb << 20) // 2:
            self._replace(worker)  # what its allocator kept would shrink the next query's cap
        else:
            self._release(worker)
        if not reply.get("ok"):
            raise reply_error(reply, self.sql)
        return reply

    def _take(self) -> Worker:
        idle = self._idle
        try:
            slot = idle.get(timeout=self._max_wait_s)
        except queue.Empty:
            raise SandboxBusy(f"no SQL worker became free within {self._max_wait_s:.0f} s",
                              retry_after_s=self.retry_after_s) from None
        if slot is not None:
            return slot
        with self._lock:
            if not self._started:
                raise SandboxUnavailable("the SQL workers are stopped (the server is "
                                         "shutting down)")
            worker = self._spawn_locked()
        if worker is None:
            idle.put(None)  # the next caller tries again
            raise SandboxUnavailable("a SQL worker process could not be started; see the "
                                     "server log")
        return worker

    def _make_ready(self, worker: Worker) -> None:
        try:
            worker.await_ready(STARTUP_TIMEOUT_S)
        except protocol.FrameError:
            raise SandboxUnavailable(f"a SQL worker process could not start "
                                     f"({worker.how_it_ended()}); see the server log") from None

    def _ask(self, worker: Worker, job: Job) -> dict[str, Any]:
        """The worker's reply; on any failure the caller replaces the worker."""
        try:
            return worker.ask(job, timeout_s=self.kill_after_s,
                              limit=job.max_bytes + len(job.sql) + REPLY_OVERHEAD)
        except protocol.DeadlinePassed:
            worker.kill()  # first, so the answer leaves no runaway behind
            raise time_limit_error(self.sql, killed=True) from None
        except protocol.FrameTooLarge as exc:
            raise QueryRejected(f"the result is too large: {exc}") from None
        except (protocol.PeerClosed, OSError):
            if not self._started:
                raise SandboxUnavailable("the SQL workers were stopped (the server is "
                                         "shutting down)") from None
            raise worker_died_error(self.sql, worker.how_it_ended()) from None

    def _release(self, worker: Worker) -> None:
        with self._lock:
            if worker in self._workers:  # not if the pool was closed meanwhile
                self._idle.put(worker)

    def _replace(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)
            if self._started:
                self._idle.put(self._spawn_locked())

    def _spawn_locked(self) -> Worker | None:
        try:
            worker = Worker(self.spec)
        except OSError as exc:  # fork or exec refused (no memory, no process slots)
            log.warning("cannot start a SQL worker: %s", exc)
            return None
        self._workers.add(worker)
        return worker
