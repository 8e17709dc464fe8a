"""Runners whose workers are other processes: ``ShippingRunner`` and its process pool.

``ShippingRunner.run`` reads each key in the caller's process, writes the partition's inputs
as Parquet on shared storage (``staging``: a folder, or ``s3://`` for workers on other
machines), and submits ``run_shipped`` with the partition function and where the inputs are;
the worker reads them back and applies the function. The result comes back through the
backend (pickled by a process pool, the object store on Ray).

- **Bounded.** At most ``2 x slots`` keys are shipped ahead of the one the caller waits for,
  so the caller's memory holds a few partitions' results whatever the window.
- **Retries.** A partition that fails (a worker killed, a node lost, storage unreadable) is
  submitted again, up to ``attempts`` times in all; a ``FinOpsError`` (bad data: it would
  fail again) is raised at once. A process pool broken by a dead worker is replaced, and the
  partitions it held are submitted again.
- **All or nothing.** Results are yielded in key order and nothing is written by the runner:
  the caller stores them in one transaction after the last one, so a partition that fails
  for good leaves the warehouse as it was. The run's staged inputs are removed at the end,
  failed or not.
- **Progress.** ``on_event`` hears of every partition done, retried or failed, with its
  shipped bytes and times (``PartitionEvent``); ``events`` keeps them for the run.
"""

from __future__ import annotations

import multiprocessing
import operator
import uuid
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Protocol, TypeVar

from finops.pipeline.runner import PartitionKey
from finops.pipeline.staging import Shipped, Staging, partition_dir, read_frame, ship, unship
from finops.pipeline.staging import write_frame as _write_frame
from models.errors import FinOpsError, RunnerError

In = TypeVar("In")
Out = TypeVar("Out")
SHARED = "shared"


@dataclass(frozen=True)
class Finished:
    """What a worker sends back: the result and how long reading and working took."""

    result: Any
    load_s: float
    work_s: float


@dataclass(frozen=True)
class PartitionEvent:
    key: PartitionKey
    status: str  # done | retry | failed
    attempt: int
    shipped_bytes: int
    ship_s: float  # caller: writing the inputs to shared storage
    wall_s: float  # caller: from submitting to the result (queueing included)
    load_s: float = 0.0  # worker: reading the inputs back
    work_s: float = 0.0  # worker: the partition function
    error: str = ""


_SHARED_CACHE: dict[str, dict[str, Any]] = {}


def _shared_frames(staging: Staging, names: Sequence[str]) -> dict[str, Any]:
    """The run-wide frames, read once per worker process and run (the last run's only)."""
    if staging.uri not in _SHARED_CACHE:
        _SHARED_CACHE.clear()
        _SHARED_CACHE[staging.uri] = {n: read_frame(staging, f"{SHARED}/{n}.parquet")
                                      for n in names}
    return _SHARED_CACHE[staging.uri]


def run_shipped(partition: Callable[[PartitionKey, Any], Any], key: PartitionKey, kind: type,
                shipped: Shipped, shared: Sequence[str]) -> Finished:
    """In the worker: read the partition's inputs back from shared storage and apply
    ``partition`` to them."""
    start = perf_counter()
    given = _shared_frames(shipped.staging, shared)
    item: Any = unship(kind, shipped.staging, shipped.path, given)
    loaded = perf_counter()
    result = partition(key, item)
    return Finished(result, loaded - start, perf_counter() - loaded)


class Backend(Protocol):
    """Where ``run_shipped`` runs: ``slots`` at once; ``restart`` after a broken pool."""

    slots: int

    def submit(self, *args: Any) -> Future[Finished]: ...

    def broken(self, error: BaseException) -> bool: ...

    def restart(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class _Task:
    index: int
    key: PartitionKey
    args: tuple[Any, ...]
    shipped_bytes: int
    ship_s: float
    attempt: int = 1
    submitted: float = field(default_factory=perf_counter)


class ShippingRunner:
    """The runner protocol over a ``Backend``; subclasses say which backend."""

    per_cluster = True

    def __init__(self, staging: Staging, *, attempts: int = 3, shared: Sequence[str] = (),
                 on_event: Callable[[PartitionEvent], None] | None = None) -> None:
        self.staging, self.attempts, self.shared = staging, max(1, attempts), list(shared)
        self.on_event = on_event
        self.events: list[PartitionEvent] = []

    def backend(self) -> Backend:
        raise NotImplementedError

    def run(self, keys: Sequence[PartitionKey], read: Callable[[PartitionKey], In],
            partition: Callable[[PartitionKey, In], Out]) -> Generator[Out, None, None]:
        # The backend starts here, on the caller's thread (Ray wants its driver started on
        # the main thread); the generator may be consumed on another. It is closed when the
        # generator ends or is closed (a generator never started is closed at exit).
        return self._run(list(keys), read, partition, self.backend())

    def _run(self, keys: list[PartitionKey], read: Callable[[PartitionKey], In],
             partition: Callable[[PartitionKey, In], Out],
             backend: Backend) -> Generator[Out, None, None]:
        run_dir = self.staging.under(f"run-{uuid.uuid4().hex[:12]}")
        pending: dict[Future[Finished], _Task] = {}
        try:
            done: dict[int, Out] = {}
            submitted = 0
            for index in range(len(keys)):
                while submitted < min(len(keys), index + 2 * backend.slots):
                    task = self._ship(run_dir, submitted, keys[submitted], read, partition)
                    pending[backend.submit(*task.args)] = task
                    submitted += 1
                while index not in done:
                    self._collect(backend, pending, done)
                yield done.pop(index)
        finally:
            for future in pending:
                future.cancel()
            backend.close()
            run_dir.remove()

    def _ship(self, run_dir: Staging, index: int, key: PartitionKey,
              read: Callable[[PartitionKey], In], partition: Callable[[PartitionKey, In], Out],
              ) -> _Task:
        start = perf_counter()
        item = read(key)
        path = partition_dir(key.day, key.cluster)
        nbytes = ship(item, run_dir, path, skip=frozenset(self.shared))
        if index == 0:
            for name in self.shared:
                _write_frame(run_dir, f"{SHARED}/{name}.parquet",
                             operator.attrgetter(name)(item))
        shipped = Shipped(run_dir, path, nbytes)
        args = (partition, key, type(item), shipped, self.shared)
        return _Task(index, key, args, nbytes, perf_counter() - start)

    def _collect(self, backend: Backend, pending: dict[Future[Finished], _Task],
                 done: dict[int, Any]) -> None:
        """Wait for a partition to finish; keep its result, or submit it again."""
        finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        restarted = False
        for future in finished:
            task = pending.pop(future, None)
            if task is None:  # already submitted again when its pool broke
                continue
            error = future.exception()
            if error is None:
                outcome = future.result()
                done[task.index] = outcome.result
                self._event(task, "done", load_s=outcome.load_s, work_s=outcome.work_s)
                continue
            if backend.broken(error) and not restarted:
                backend.restart()
                restarted = True
                # every partition the broken pool held is lost with it
                for other, lost in list(pending.items()):
                    pending.pop(other)
                    self._retry(backend, pending, lost, error)
            self._retry(backend, pending, task, error)

    def _retry(self, backend: Backend, pending: dict[Future[Finished], _Task], task: _Task,
               error: BaseException) -> None:
        if isinstance(error, FinOpsError) or task.attempt >= self.attempts:
            self._event(task, "failed", error=_describe(error))
            if isinstance(error, FinOpsError):
                raise error
            raise RunnerError(f"partition {task.key.cluster} on {task.key.day} failed "
                              f"{task.attempt} time(s), the last: {_describe(error)}; "
                              "nothing was written") from error
        self._event(task, "retry", error=_describe(error))
        task.attempt += 1
        task.submitted = perf_counter()
        pending[backend.submit(*task.args)] = task

    def _event(self, task: _Task, status: str, **extra: Any) -> None:
        event = PartitionEvent(task.key, status, task.attempt, task.shipped_bytes, task.ship_s,
                               perf_counter() - task.submitted, **extra)
        self.events.append(event)
        if self.on_event:
            self.on_event(event)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[-1] if text else ''}"[:500]


class _PoolBackend:
    def __init__(self, workers: int) -> None:
        self.slots = workers
        self.pool = self._pool()

    def _pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: Polars and DuckDB hold threads that a forked child would inherit
        # half-locked.
        return ProcessPoolExecutor(self.slots, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, *args: Any) -> Future[Finished]:
        try:
            return self.pool.submit(run_shipped, *args)
        except BrokenProcessPool as exc:
            # a worker died since the last wait: the task fails like those the pool held,
            # so the runner replaces the pool and submits it again (one attempt)
            failed: Future[Finished] = Future()
            failed.set_exception(exc)
            return failed

    def broken(self, error: BaseException) -> bool:
        return isinstance(error, BrokenProcessPool)

    def restart(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._pool()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class ProcessRunner(ShippingRunner):
    """Partitions on a pool of ``workers`` processes on this machine (spawned per run)."""

    def __init__(self, staging: Staging, *, workers: int, **options: Any) -> None:
        super().__init__(staging, **options)
        self.workers = max(1, workers)

    def backend(self) -> Backend:
        return _PoolBackend(self.workers)
