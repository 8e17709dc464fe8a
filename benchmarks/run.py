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

from benchmarks.stage import MARK
from benchmarks.stages import BILLING_SOURCES
from finops.demo import DEMO_CONFIG, DEMO_DIR

ROOT = Path(__file__).resolve().parent.parent

# Pods × days per size, for the record; the generator owns the exact shape of each size.
SIZES = {"S": "the demo (~200 pods x 31 days)", "M": "5,000 pods x 7 days",
         "L": "50,000 pods x 30 days, 10M bill lines", "XL": "2 x L"}
WINDOWS = {"S": ("2026-10-01", "2026-10-31"), "M": ("2026-10-01", "2026-10-07"),
           "L": ("2026-10-01", "2026-10-30"), "XL": ("2026-10-01", "2026-10-30")}
MEMORY_BUDGET_MB = 4096  # the limit: every stage of L must fit in 4 GB peak RSS
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
    def scratch(self) -> Path:
        return self.workdir / "floor-scratch.duckdb"

    @property
    def config(self) -> Path:
        own = self.data / "finops.yaml"
        return own if own.exists() else DEMO_CONFIG


def child(name: str, **kwargs: Any) -> dict[str, Any]:
    """Run one stage in a fresh interpreter. A failure is recorded (with the end of its
    stderr) rather than raised, so one broken stage does not hide the others' figures."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "benchmarks.stage", name, json.dumps(kwargs)],
                          capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    marked = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode == 0 and marked:
        return dict(json.loads(marked[-1].removeprefix(MARK)))
    text = done.stderr or done.stdout
    said = [line for line in text.splitlines() if line.startswith("Error:")]
    return {"stage": name, "failed": True, "wall_s": round(time.perf_counter() - began, 3),
            "cpu_s": 0.0, "peak_rss_mb": 0.0, "exit_code": done.returncode,
            "error": "\n".join(said[-3:] + [text[-2500:]])}


def demo_token() -> str:
    tokens = json.loads((DEMO_DIR / "tokens.json").read_text())
    return str(tokens.get("platform") or next(iter(tokens.values())))


def stage_plan(plan: Plan, skip: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    start, end = WINDOWS[plan.size]
    common = {"db": str(plan.db), "config": str(plan.config)}
    sources = [s for s in BILLING_SOURCES if s not in skip]  # e.g. --skip gcp
    return [
        ("stage_ingest_billing", {**common, "data": str(plan.data), "sources": sources}),
        ("floor_scan_billing", {"data": str(plan.data), "scratch": str(plan.scratch),
                                "sources": sources}),
        ("stage_ingest_usage", {**common, "data": str(plan.data)}),
        ("floor_scan_usage", {"data": str(plan.data), "scratch": str(plan.scratch)}),
        ("stage_allocate", {**common, "start": start, "end": end}),
        ("floor_join_allocate", {"db": str(plan.db)}),
        ("stage_publish", common),
        ("stage_api", {**common, "start": start, "end": end, "token": demo_token()}),
        ("stage_budgets", {**common, "end": end}),
    ]


def run(plan: Plan, *, reuse: bool = False, skip: tuple[str, ...] = (),
        only: tuple[str, ...] = (), previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Generate (unless reusing data), then every stage and floor in order.

    ``only`` reruns just those stages (and their floors) against the existing warehouse and
    merges them into ``previous`` — e.g. allocate again after the engine changed.
    """
    plan.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = dict((previous or {}).get("stages", {})) if only else {}
    if not only and reuse and plan.data.exists() and previous and "generate" in previous.get(
            "stages", {}):
        results["generate"] = {**previous["stages"]["generate"], "reused": True}
    if not only and not (reuse and plan.data.exists()):
        results["generate"] = child("stage_generate", data=str(plan.data), size=plan.size,
                                    seed=plan.seed)
        _progress(results["generate"])
    if not only:
        plan.db.unlink(missing_ok=True)
        plan.db.with_suffix(".duckdb.wal").unlink(missing_ok=True)
    wanted = set(only) | {FLOOR_OF[s] for s in only if s in FLOOR_OF}
    for name, kwargs in stage_plan(plan, skip):
        short = name.removeprefix("stage_")
        if short in skip or (only and short not in wanted and name not in wanted):
            continue
        results[short] = child(name, **kwargs)
        _progress(results[short])
    return summarise(plan, results)


def _progress(result: dict[str, Any]) -> None:
    state = "FAILED" if result.get("failed") else ""
    print(f"  {result['stage']:<24} {result['wall_s']:>9.2f}s  {result['peak_rss_mb']:>8.0f} MB"
          f"  {state}", file=sys.stderr, flush=True)


def summarise(plan: Plan, results: dict[str, Any]) -> dict[str, Any]:
    ok = {k: r for k, r in results.items() if not r.get("failed")}
    for stage, floor in FLOOR_OF.items():
        results.get(stage, {}).pop("floor_ratio", None)
        if stage in ok and floor in ok and ok[floor]["wall_s"] > 0:
            results[stage]["floor_ratio"] = round(ok[stage]["wall_s"] / ok[floor]["wall_s"], 2)
    for result in ok.values():
        if result.get("rows") and result["wall_s"] > 0:
            result["rows_per_s"] = round(result["rows"] / result["wall_s"])
        result["over_memory_budget"] = result["peak_rss_mb"] > MEMORY_BUDGET_MB
    pipeline = [r for k, r in results.items() if not k.startswith("floor") and k != "generate"]
    generated = results.get("generate", {})
    pod_hours = results.get("ingest_usage", {}).get("rows") or generated.get("pod_hours", 0)
    bill = results.get("ingest_billing", {}).get("rows") or generated.get("rows", 0)
    return {
        "size": plan.size, "describes": SIZES[plan.size], "seed": plan.seed,
        "date": time.strftime("%Y-%m-%d"), "commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_avg_at_end": load_average()},
        "pod_hours": pod_hours, "bill_lines": bill,
        "memory_budget_mb": MEMORY_BUDGET_MB,
        "failed": sorted(k for k, r in results.items() if r.get("failed")),
        "total": {"wall_s": round(sum(r["wall_s"] for r in pipeline), 2),
                  "cpu_s": round(sum(r["cpu_s"] for r in pipeline), 2),
                  "peak_rss_mb": max((r["peak_rss_mb"] for r in pipeline), default=0)},
        "stages": results,
    }


def load_average() -> list[float]:
    """The machine's load average: other processes share these 2 cores, say how busy."""
    return [round(x, 2) for x in os.getloadavg()]


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    return done.stdout.strip() or "unknown"
