"""``runner_named``: the runner ``finops allocate --runner`` names, built from plain options."""

from __future__ import annotations

import os
from collections.abc import Callable

from finops.pipeline.partitions import RUN_WIDE
from finops.pipeline.remote import PartitionEvent, ProcessRunner
from finops.pipeline.runner import RUNNERS, LocalRunner, Runner
from finops.pipeline.staging import Staging
from models.errors import ConfigError


def runner_named(name: str, *, staging: Staging, workers: int | None = None,
                 address: str | None = None, attempts: int = 3,
                 on_event: Callable[[PartitionEvent], None] | None = None) -> Runner:
    """``local``, ``processes`` or ``ray`` (Ray is imported only for ``ray``)."""
    if name not in RUNNERS:
        raise ConfigError(f"--runner / FINOPS_RUNNER: {name!r} is not one of "
                          f"{', '.join(RUNNERS)}")
    if address is not None and name != "ray":
        raise ConfigError(f"--ray-address / FINOPS_RAY_ADDRESS is for --runner ray, not {name}")
    if name == "local":
        return LocalRunner()
    options = {"attempts": attempts, "on_event": on_event,
               "shared": sorted(RUN_WIDE)}
    if name == "processes":
        return ProcessRunner(staging, workers=workers or os.cpu_count() or 1, **options)
    from finops.pipeline.ray_runner import RayRunner

    return RayRunner(staging, address=address, workers=workers, **options)
