"""Partition functions that fail on purpose, for the runners' retry tests.

They wrap the real ``allocate_partition`` and are top-level functions of this package, so a
process pool or a Ray worker imports them like the application's own.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from finops.pipeline.partitions import allocate_partition
from finops.pipeline.runner import PartitionKey


def stall_first(cluster: str, marker: str, config: Any, key: PartitionKey, prepared: Any) -> Any:
    """``allocate_partition``, except that the first attempt at ``cluster``'s first partition
    writes its pid to ``marker`` and sleeps until it is killed."""
    pid_file = Path(marker)
    if key.cluster == cluster and not pid_file.exists():
        pid_file.write_text(str(os.getpid()))
        time.sleep(120)
    return allocate_partition(config, key, prepared)


def fail_always(cluster: str, config: Any, key: PartitionKey, prepared: Any) -> Any:
    """``allocate_partition``, except that ``cluster``'s partitions always fail as a lost
    file would (an error that is worth retrying)."""
    if key.cluster == cluster:
        raise OSError(f"{cluster} on {key.day}: the staged inputs are gone")
    return allocate_partition(config, key, prepared)


def kill_when_stalled(marker: Path, timeout_s: float = 120) -> int:
    """SIGKILL the worker that ``stall_first`` stalled; its pid."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text():
            pid = int(marker.read_text())
            os.kill(pid, signal.SIGKILL)
            return pid
        time.sleep(0.05)
    raise AssertionError(f"no partition stalled within {timeout_s:.0f}s")
