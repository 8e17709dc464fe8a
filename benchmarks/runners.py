"""The runners side by side on one warehouse: wall time, per-partition overhead, bytes shipped.

    python -m benchmarks.runners --db data/finops.duckdb --config finops.yaml
                                 --start 2026-10-01 --end 2026-10-31
                                 [--runners local,processes,ray] [--workers 2]

Each runner allocates the window on its own copy of the warehouse (the copies are removed),
with staged inputs in a folder beside it. Prints one JSON line per runner: wall seconds of
``run_allocation``, partitions, and for the shipping runners the means per partition of the
caller's shipping (read + write Parquet), the worker's load and work, the wall from submit to
result, and the bytes shipped (mean and max), so that a run on N machines can be estimated:
the caller ships serially (``ship_s`` x partitions is its floor), workers do ``load_s +
work_s`` each.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from statistics import mean
from typing import Any

from finops.pipeline.allocate import run_allocation
from finops.pipeline.remote import PartitionEvent
from finops.pipeline.runners import runner_named
from finops.pipeline.staging import Staging
from finops.warehouse import Warehouse
from models.config import load_config


def measure(db: Path, config: Path, window: tuple[date, date], name: str,
            workers: int | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=db.parent) as scratch:
        copy = Path(scratch) / "finops.duckdb"
        shutil.copyfile(db, copy)
        runner = runner_named(name, staging=Staging(str(Path(scratch) / "staging")),
                              workers=workers)
        with Warehouse(copy) as wh:
            start = time.perf_counter()
            summary = run_allocation(wh, load_config(config), *window, runner=runner)
            wall = time.perf_counter() - start
    events: list[PartitionEvent] = [e for e in getattr(runner, "events", [])
                                    if e.status == "done"]
    figures: dict[str, Any] = {"runner": name, "wall_s": round(wall, 2),
                               "partitions": summary.partitions, "rows": summary.rows}
    if events:
        figures |= {f"{field}_mean": round(mean(getattr(e, field) for e in events), 4)
                    for field in ("ship_s", "load_s", "work_s", "wall_s")}
        figures |= {"shipped_bytes_mean": int(mean(e.shipped_bytes for e in events)),
                    "shipped_bytes_max": max(e.shipped_bytes for e in events)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--runners", default="local,processes,ray")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    for name in args.runners.split(","):
        print(json.dumps(measure(args.db, args.config, (args.start, args.end), name,  # noqa: T201
                                 args.workers)), flush=True)


if __name__ == "__main__":
    main()
