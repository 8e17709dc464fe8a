"""``RayRunner``: the engine's partitions as Ray tasks (the optional extra ``finops[ray]``).

Each (cluster, day) partition is one Ray task running ``remote.run_shipped``: its inputs are
Parquet files on shared storage (``s3://`` when the workers are other machines), the task
carries only where they are, and its rows come back through Ray's object store. Tasks, not
Ray Data's ``map_batches``: a partition is a dozen frames, not a batch of one table, and a
task per partition gives the runner what it owes its caller (per-partition retries, progress
and key order) without a shuffle.

Ray's own retries are off (``max_retries=0``): the runner retries a failed partition itself,
a bounded number of times, so a partition that keeps killing its worker fails the run with
its name instead of looping. ``address`` is ``auto`` (the cluster this machine belongs to),
``ray://host:10001`` (Ray Client) or a head's ``host:port``; without one a local Ray is
started for the run and stopped after it.
"""

from __future__ import annotations

import logging
import os
import socket
from concurrent.futures import Future
from typing import Any

from finops.pipeline.remote import Backend, Finished, ShippingRunner, run_shipped
from finops.pipeline.staging import Staging
from models.errors import ConfigError, RunnerError


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--runner ray needs Ray, the optional extra: "
                          "pip install 'finops[ray]'") from None
    return ray


class _RayBackend:
    def __init__(self, address: str | None, workers: int | None) -> None:
        self.ray = ray = _ray()
        self.started = not ray.is_initialized()
        if self.started:
            self._connect(address, workers)
        self.task = ray.remote(max_retries=0, num_cpus=1)(run_shipped)
        self.slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.refs: dict[Future[Finished], Any] = {}

    def _connect(self, address: str | None, workers: int | None) -> None:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "logging_level": logging.ERROR,
                                   "configure_logging": False}
        if address is None:
            options["num_cpus"] = workers or os.cpu_count() or 1
        elif address != "auto":
            _check_reachable(address)
        try:
            self.ray.init(address=address, **options)
        except Exception as exc:  # noqa: BLE001 — Ray raises many kinds; all mean "no cluster"
            raise RunnerError(f"cannot reach Ray at {address or 'a new local cluster'}: "
                              f"{type(exc).__name__}: {exc}") from exc

    def submit(self, *args: Any) -> Future[Finished]:
        ref = self.task.remote(*args)
        future: Future[Finished] = ref.future()
        self.refs[future] = ref
        # A held ObjectRef pins its result in the object store, which the driver maps: kept
        # until the run's end, every partition's rows stayed there (~5 GB in the caller at
        # L). The ref is needed only to cancel a task still running.
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Finished]) -> None:
        self.refs.pop(future, None)

    def broken(self, error: BaseException) -> bool:
        return False  # a dead worker fails its own task only; the cluster goes on

    def restart(self) -> None:
        pass

    def close(self) -> None:
        for future, ref in list(self.refs.items()):  # callbacks pop from another thread
            if not future.done():
                self.ray.cancel(ref, force=True)
        self.refs.clear()
        if self.started:
            self.ray.shutdown()


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail fast on a head that does not answer: ``ray.init`` would retry for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--ray-address / FINOPS_RAY_ADDRESS: {address!r} is not auto, "
                          "ray://host:port or host:port")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise RunnerError(f"cannot reach Ray at {address}: {exc}") from None


class RayRunner(ShippingRunner):
    """Partitions as Ray tasks on the cluster at ``address`` (None: a local Ray)."""

    def __init__(self, staging: Staging, *, address: str | None = None,
                 workers: int | None = None, **options: Any) -> None:
        super().__init__(staging, **options)
        self.address, self.workers = address, workers

    def backend(self) -> Backend:
        return _RayBackend(self.address, self.workers)
