"""The serving load stage: a real ``finops serve`` under concurrent clients, route by route.

``python -m benchmarks serve --size S|L [--clients 20] [--requests 400]``:

1. the warehouse: S is the demo (built with ``finops demo --no-serve`` under
   ``benchmarks/out/serve-S/`` when missing); L is the harness's (``python -m benchmarks run
   --size L`` builds it). It is published again first, so the snapshot carries the rollups
   the code of this commit builds (the publish is timed);
2. ``finops serve`` (uvicorn) in its own process (``tests.support.ServeProcess``);
3. per route (``/healthz`` last: it reads nothing, so its latency is the floor the machine's
   load allows): one request alone (``cold_ms``: the first after a publish), one unmeasured
   request per client, then ``requests`` GETs from ``clients`` keep-alive connections:
   p50/p95/p99/max, errors (anything but 200), requests/s; the server's peak RSS.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from benchmarks.load import hammer
from benchmarks.run import ROOT, WINDOWS, git_commit, load_average
from finops.demo import DEMO_CONFIG, DEMO_DIR
from finops.warehouse import Warehouse
from tests.support import ServeProcess, exit_code

TEAM = "payments"  # a team of the synthetic organisation at every size
FLOOR = "/healthz"  # reads nothing: its latency is what the machine's load alone costs
API_ROUTES = (
    "/api/allocation?aggregate=team",
    "/api/allocation?aggregate=namespace&step=day",
    "/api/allocation?aggregate=team,namespace,workload&step=window",
    "/api/allocation?aggregate=cluster,service&step=day",
    "/api/teams",
    f"/api/teams/{TEAM}",
    f"/api/teams/{TEAM}/explain",
    "/api/unowned",
    "/api/coverage",
    "/api/budgets",
    "/api/alerts",
)
PAGES = ("/dashboards/finance", f"/dashboards/teams/{TEAM}", "/dashboards/unowned")


@dataclass(frozen=True)
class Target:
    db: Path
    config: Path
    token: str


def demo_target(workdir: Path) -> Target:
    """The demo warehouse (size S), built the way a user builds it when missing."""
    db = workdir / "finops.duckdb"
    if not db.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        if exit_code(["--db", str(db), "demo", "--no-serve"]) != 0:
            raise SystemExit("finops demo --no-serve failed")
    tokens = json.loads((DEMO_DIR / "tokens.json").read_text())
    return Target(db, DEMO_CONFIG, tokens["finance"])


def harness_target(size: str, workdir: Path) -> Target:
    """The harness's warehouse of ``size`` (``python -m benchmarks run --size L``)."""
    db = workdir / "finops.duckdb"
    if not db.exists():
        raise SystemExit(f"no warehouse at {db}: run `python -m benchmarks run --size {size}` "
                         "first (add --reuse to keep generated data)")
    tokens = json.loads((DEMO_DIR / "tokens.json").read_text())
    return Target(db, workdir / "data" / "finops.yaml", tokens["finance"])


def publish(db: Path) -> float:
    """Publish again (rollups included); seconds it took."""
    began = time.perf_counter()
    with Warehouse(db) as warehouse:
        warehouse.publish()
    return round(time.perf_counter() - began, 2)


def cold(base: str, headers: dict[str, str], path: str) -> float:
    began = time.perf_counter()
    response = httpx.get(base + path, headers=headers, timeout=120)
    elapsed = round((time.perf_counter() - began) * 1000, 1)
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code} {response.text[:300]}")
    return elapsed


def measure(target: Target, routes: list[str], *, clients: int, requests: int,
            env: dict[str, str], log: Path, baseline: Path | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {target.token}"}
    server_env = {"FINOPS_DB": str(target.db), "FINOPS_CONFIG": str(target.config), **env}
    if baseline is not None:  # the server runs the code of another checkout
        server_env["PYTHONPATH"] = str(baseline)
    results = []
    with ServeProcess(server_env, log, ready_path="/readyz", cwd=baseline) as server:
        assert server.process is not None
        proc = psutil.Process(server.process.pid)
        for path in routes:
            cpu = _tree_cpu_s(proc)
            first = cold(server.base, headers, path)
            summary = hammer(server.base, headers, path, requests=requests,
                             clients=clients).summary()
            spent = (_tree_cpu_s(proc) - cpu) * 1000 / (requests + clients + 1)
            results.append({**summary, "cold_ms": first, "server_cpu_ms": round(spent, 2)})
            print(_line(results[-1]), flush=True)  # noqa: T201
        rss = _tree_rss_mb(proc)
    return {"routes": results, "server_rss_mb": rss}


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    """The server and its children (SQL workers; uvicorn's workers with --workers)."""
    return [proc, *proc.children(recursive=True)]


def _tree_rss_mb(proc: psutil.Process) -> float:
    """RSS of the server's processes, MB, at the end of the run."""
    return round(sum(p.memory_info().rss for p in _tree(proc)) / 2**20, 1)


def _tree_cpu_s(proc: psutil.Process) -> float:
    """CPU seconds (user + system) the server's processes have used so far: divided by the
    requests, the cost of one request whatever else the machine runs."""
    return sum(sum(p.cpu_times()[:2]) for p in _tree(proc))


def _line(summary: dict[str, Any]) -> str:
    return (f"  {summary['route']:<62} p50 {summary['p50_ms']:>7} p95 {summary['p95_ms']:>7} "
            f"p99 {summary['p99_ms']:>7} ms  cold {summary['cold_ms']:>7} ms  "
            f"cpu {summary['server_cpu_ms']:>6} ms/req  errors {summary['errors']}")


def run_serve(size: str, *, clients: int = 20, requests: int = 400,
              workdir: Path | None = None, env: dict[str, str] | None = None,
              routes: list[str] | None = None, baseline: Path | None = None) -> dict[str, Any]:
    """The whole stage. ``baseline``: a checkout of other code (``git archive <commit> | tar
    -x -C DIR``) to serve the same published warehouse with, for before/after figures."""
    if size == "S":
        target = demo_target(workdir or ROOT / "benchmarks" / "out" / "serve-S")
    else:
        target = harness_target(size, workdir or ROOT / "benchmarks" / "out" / size)
    publish_s = publish(target.db) if baseline is None else None
    start, end = WINDOWS[size]
    wanted = routes or [*API_ROUTES, *PAGES, FLOOR]
    paths = [p + ("&" if "?" in p else "?") + f"start={start}&end={end}" for p in wanted]
    load_before = load_average()
    measured = measure(target, paths, clients=clients, requests=requests, env=env or {},
                       log=target.db.with_name("serve-bench.log"), baseline=baseline)
    return {"size": size, "date": time.strftime("%Y-%m-%d"), "commit": git_commit(),
            "baseline": str(baseline) if baseline else None,
            "clients": clients, "requests_per_route": requests, "publish_s": publish_s,
            "snapshot_bytes": target.db.with_name(f"{target.db.stem}.published.duckdb")
            .stat().st_size, "server_env": env or {},
            "machine": {"cpus": os.cpu_count(), "load_avg_before": load_before,
                        "load_avg_after": load_average()},
            **measured}
