"""Orchestrate a benchmark run: generate, then each stage and its floor in a child process.

Results go to ``--out`` (JSON) and are printed as a table; ``growth`` puts the result files
of several sizes side by side with time and memory per pod-hour.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Pods × days per size, for the record; the generator owns the exact shape of each size.
SIZES = {"S": "the demo (~200 pods x 31 days)", "M": "5,000 pods x 7 days",
         "L": "50,000 pods x 30 days, 10M bill lines", "XL": "2 x L"}
WINDOWS = {"S": ("2026-10-01", "2026-10-31"), "M": ("2026-10-01", "2026-10-07"),
           "L": ("2026-10-01", "2026-10-30"), "XL": ("2026-10-01", "2026-10-30")}
FLOOR_OF = {"ingest_billing": "floor_scan_billing", "ingest_usage": "floor_scan_usage",
            "allocate": "floor_join_allocate"}


@dataclass
class Plan:
    size: str
    workdir: Path
    seed: int = 7

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    @property
    def db(self) -> Path:
        return self.workdir / "finops.duckdb"

    @property
    def config(self) -> Path:
        own = self.data / "finops.yaml"
        return own if own.exists() else ROOT / "data" / "demo" / "finops.yaml"


def child(name: str, **kwargs: Any) -> dict[str, Any]:
    """Run one stage in a fresh interpreter; a failure stops the run with its stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "benchmarks.stage", name, json.dumps(kwargs)],
                          capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def demo_token() -> str:
    tokens = json.loads((ROOT / "data" / "demo" / "tokens.json").read_text())
    return str(tokens.get("platform") or next(iter(tokens.values())))


def stage_plan(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    start, end = WINDOWS[plan.size]
    common = {"db": str(plan.db), "config": str(plan.config)}
    return [
        ("stage_ingest_billing", {**common, "data": str(plan.data)}),
        ("floor_scan_billing", {"data": str(plan.data)}),
        ("stage_ingest_usage", {**common, "data": str(plan.data)}),
        ("floor_scan_usage", {"data": str(plan.data)}),
        ("stage_allocate", {**common, "start": start, "end": end}),
        ("floor_join_allocate", {"db": str(plan.db)}),
        ("stage_publish", common),
        ("stage_api", {**common, "start": start, "end": end, "token": demo_token()}),
        ("stage_budgets", {**common, "end": end}),
    ]


def run(plan: Plan, *, reuse: bool = False, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    plan.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    if not (reuse and plan.data.exists()):
        results["generate"] = child("stage_generate", data=str(plan.data), size=plan.size,
                                    seed=plan.seed)
        _progress(results["generate"])
    plan.db.unlink(missing_ok=True)
    for name, kwargs in stage_plan(plan):
        short = name.removeprefix("stage_")
        if short in skip:
            continue
        results[short] = child(name, **kwargs)
        _progress(results[short])
    return summarise(plan, results)


def _progress(result: dict[str, Any]) -> None:
    print(f"  {result['stage']:<24} {result['wall_s']:>9.2f}s  {result['peak_rss_mb']:>8.0f} MB",
          file=sys.stderr, flush=True)


def summarise(plan: Plan, results: dict[str, Any]) -> dict[str, Any]:
    for stage, floor in FLOOR_OF.items():
        if stage in results and floor in results and results[floor]["wall_s"] > 0:
            results[stage]["floor_ratio"] = round(
                results[stage]["wall_s"] / results[floor]["wall_s"], 2)
    for result in results.values():
        if result.get("rows") and result["wall_s"] > 0:
            result["rows_per_s"] = round(result["rows"] / result["wall_s"])
    pipeline = [r for k, r in results.items() if not k.startswith("floor") and k != "generate"]
    pod_hours = results.get("ingest_usage", {}).get("rows", 0)
    return {
        "size": plan.size, "describes": SIZES[plan.size], "seed": plan.seed,
        "date": time.strftime("%Y-%m-%d"), "commit": _commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "pod_hours": pod_hours,
        "total": {"wall_s": round(sum(r["wall_s"] for r in pipeline), 2),
                  "cpu_s": round(sum(r["cpu_s"] for r in pipeline), 2),
                  "peak_rss_mb": max((r["peak_rss_mb"] for r in pipeline), default=0)},
        "stages": results,
    }


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    return done.stdout.strip() or "unknown"
