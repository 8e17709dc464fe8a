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

STAGES: dict[str, Callable[..., dict[str, Any]]] = {
    **{name: fn for name, fn in vars(stages).items() if name.startswith("stage_")},
    **{name: fn for name, fn in vars(floors).items() if name.startswith("floor_")},
}


def measure(name: str, **kwargs: Any) -> dict[str, Any]:
    wall, usage0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    extra = STAGES[name](**kwargs)
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    return {
        "stage": name,
        "wall_s": round(time.perf_counter() - wall, 3),
        "cpu_s": round(cpu, 3),
        "peak_rss_mb": round(usage1.ru_maxrss / 1024, 1),  # KiB on Linux
        **extra,
    }


MARK = "BENCHMARK-RESULT "  # the parent reads the line after this mark; the CLI prints too

if __name__ == "__main__":
    name, kwargs = sys.argv[1], json.loads(sys.argv[2])
    result = measure(name, **kwargs)
    sys.stdout.flush()
    print(MARK + json.dumps(result))  # noqa: T201
