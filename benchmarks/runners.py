"""The runners side by side on one warehouse: wall time, CPU, peak memory, per-partition
overhead, bytes shipped; and, with ``--keep``, whether their ``allocation`` tables are equal.

    python -m benchmarks.runners --db data/finops.duckdb --config finops.yaml
                                 --start 2026-10-01 --end 2026-10-31
                                 [--runners local,processes,ray] [--workers 2] [--keep DIR]

Each runner allocates the window on its own copy of the warehouse (the copies are removed),
with staged inputs in a folder beside it. Prints one JSON line per runner: wall seconds of
``run_allocation``, the CPU seconds and peak memory of this process and every process under
it (pool workers, a local Ray's daemons and workers: sampled every 0.5 s, so a process living
less than that is missed): the summed RSS (counts shared memory, such as Ray's object store,
once per process that maps it), the summed PSS (shares it out: the machine's real use) and
the largest single process's RSS; the load average before and after, partitions, and for the
shipping runners the means per partition of the caller's shipping (read + write Parquet), the
worker's load and work, the wall from submit to result, and the bytes shipped (mean and max),
so that a run on N machines can be estimated: the caller ships serially (``ship_s`` x
partitions is its floor), workers do ``load_s + work_s`` each.

``--keep DIR`` writes each runner's ``allocation`` (without ``run_id``) to
``DIR/<runner>.parquet`` after its run, then compares every runner's table with the first
runner's (``benchmarks.parity.compare``: every non-money column is the key, money to
``--tolerance``) and prints one JSON line per comparison; exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from statistics import mean
from typing import Any

import polars as pl
import psutil

from benchmarks.parity import TOLERANCE, compare, read_allocation
from finops.pipeline.allocate import run_allocation
from finops.pipeline.remote import PartitionEvent
from finops.pipeline.runners import runner_named
from finops.pipeline.staging import Staging
from finops.warehouse import Warehouse
from models.config import load_config

MB = 1024 * 1024


class TreeSampler:
    """CPU seconds and summed RSS of this process and its descendants, sampled on a thread."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self.me = psutil.Process()
        self.cpu_start = self._cpu(self.me)
        self.cpu_by_pid: dict[int, float] = {}
        self.peak = {"rss": 0, "pss": 0, "process_rss": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _cpu(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    def _sample(self) -> None:
        rss = pss = biggest = 0
        for process in [self.me, *self.me.children(recursive=True)]:
            try:
                memory = process.memory_full_info()
                if process is not self.me:
                    self.cpu_by_pid[process.pid] = self._cpu(process)
            except psutil.Error:  # ended between listing and reading: its last sample stays
                continue
            rss, pss, biggest = rss + memory.rss, pss + memory.pss, max(biggest, memory.rss)
        self.peak = {"rss": max(self.peak["rss"], rss), "pss": max(self.peak["pss"], pss),
                     "process_rss": max(self.peak["process_rss"], biggest)}

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> TreeSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sample()
        self._stop.set()
        self._thread.join()

    def figures(self) -> dict[str, float]:
        cpu = self._cpu(self.me) - self.cpu_start + sum(self.cpu_by_pid.values())
        return {"cpu_s": round(cpu, 1)} | {f"peak_{name}_mb": round(value / MB)
                                           for name, value in self.peak.items()}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(db: Path, config: Path, window: tuple[date, date], name: str,
            workers: int | None, keep: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=db.parent) as scratch:
        copy = Path(scratch) / "finops.duckdb"
        shutil.copyfile(db, copy)
        runner = runner_named(name, staging=Staging(str(Path(scratch) / "staging")),
                              workers=workers)
        load_before = load_average()
        with Warehouse(copy) as wh, TreeSampler() as sampler:
            start = time.perf_counter()
            summary = run_allocation(wh, load_config(config), *window, runner=runner)
            wall = time.perf_counter() - start
        if keep is not None:
            _keep(copy, keep / f"{name}.parquet")
    figures: dict[str, Any] = {"runner": name, "wall_s": round(wall, 2), **sampler.figures(),
                               "load_before": load_before, "load_after": load_average(),
                               "partitions": summary.partitions, "rows": summary.rows}
    return figures | partition_figures(getattr(runner, "events", []))


def _keep(db: Path, out: Path) -> None:
    read_allocation(db).write_parquet(out)
    gc.collect()  # the next runner's peak RSS should not carry this frame


def partition_figures(events: list[PartitionEvent]) -> dict[str, Any]:
    done = [e for e in events if e.status == "done"]
    if not done:
        return {}
    figures: dict[str, Any] = {f"{field}_mean": round(mean(getattr(e, field) for e in done), 4)
                               for field in ("ship_s", "load_s", "work_s", "wall_s")}
    return figures | {"shipped_bytes_mean": int(mean(e.shipped_bytes for e in done)),
                      "shipped_bytes_max": max(e.shipped_bytes for e in done),
                      "retries": sum(e.status == "retry" for e in events)}


def compare_kept(keep: Path, names: list[str], tolerance: float) -> bool:
    """Each runner's kept table against the first runner's; True when all are equal."""
    first = pl.read_parquet(keep / f"{names[0]}.parquet")
    equal = True
    for name in names[1:]:
        result = compare(first, pl.read_parquet(keep / f"{name}.parquet"), tolerance)
        print(json.dumps({"compare": f"{names[0]} vs {name}", **result}), flush=True)  # noqa: T201
        equal &= bool(result["identical"])
    return equal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--runners", default="local,processes,ray")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None,
                        help="save each runner's allocation here and compare them")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    args = parser.parse_args()
    names = args.runners.split(",")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    for name in names:
        print(json.dumps(measure(args.db, args.config, (args.start, args.end), name,  # noqa: T201
                                 args.workers, args.keep)), flush=True)
    if args.keep is not None and len(names) > 1 and not compare_kept(args.keep, names,
                                                                      args.tolerance):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
