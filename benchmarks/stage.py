"""Run ONE stage in this (fresh) process and print its measurements as JSON.

Each stage runs in its own child process so that peak RSS and CPU time belong to that
stage alone (``ru_maxrss`` of the process itself), not to the harness.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks import floors, stages
from benchmarks.stages import AFTER

STAGES: dict[str, Callable[..., dict[str, Any]]] = {
    **{name: fn for name, fn in vars(stages).items() if name.startswith("stage_")},
    **{name: fn for name, fn in vars(floors).items() if name.startswith("floor_")},
}


def measure(name: str, **kwargs: Any) -> dict[str, Any]:
    """Run the stage and measure it. A stage may return, under ``AFTER``, a function that
    checks its work (counts, a reconciliation read): it runs after the measured part, its
    results are reported beside the stage's and its own time as ``check_wall_s``/``check_cpu_s``
    (checking the work is not doing it)."""
    wall, usage0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    extra = STAGES[name](**kwargs)
    measured = _measured(name, wall, usage0)
    after = extra.pop(AFTER, None)
    if after is not None:
        began, usage2 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        extra |= after()
        checked = _measured(name, began, usage2)
        extra |= {"check_wall_s": checked["wall_s"], "check_cpu_s": checked["cpu_s"]}
    return {**measured, **extra}


def _measured(name: str, wall: float, usage0: resource.struct_rusage) -> dict[str, Any]:
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    return {
        "stage": name,
        "wall_s": round(time.perf_counter() - wall, 3),
        "cpu_s": round(cpu, 3),
        "peak_rss_mb": round(usage1.ru_maxrss / 1024, 1),  # KiB on Linux
    }


MARK = "BENCHMARK-RESULT "  # the parent reads the line after this mark; the CLI prints too

if __name__ == "__main__":
    name, kwargs = sys.argv[1], json.loads(sys.argv[2])
    result = measure(name, **kwargs)
    sys.stdout.flush()
    print(MARK + json.dumps(result))  # noqa: T201
