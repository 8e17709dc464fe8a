"""The pipeline stages the harness measures, each run through the real CLI entry point.

Every stage function runs inside a fresh child process (see ``stage.py``) and returns the
amount of work it did (rows), so the harness can report rows per second.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.floors import one_row


def _finops(db: str, config: str, *args: str, publish: bool = True) -> None:
    """Run ``finops args`` in this (the stage's fresh) process, set up as the ``finops``
    command sets itself up (``finops.runtime``: before Polars is imported); ``--no-publish``
    unless ``publish``."""
    from finops.runtime import configure

    configure(args)
    from finops.cli import main

    try:
        main(["--db", db, "--config", config, *([] if publish else ["--no-publish"]), *args])
    except SystemExit as exc:
        if exc.code:
            raise RuntimeError(f"finops {' '.join(args)} exited {exc.code}") from None


def _count(db: str, sql: str) -> int:
    row = one_row(sql, db)
    return int(row[0]) if row and row[0] is not None else 0


def stage_generate(data: str, size: str, seed: int) -> dict[str, Any]:
    from finops.synthetic import generate
    from finops.synthetic import size as size_spec

    totals = generate(size_spec(size), Path(data), seed)
    files = [p for p in Path(data).rglob("*") if p.is_file()]
    bill = sum(a["rows"] for a in totals["billing_accounts"])
    return {"rows": bill, "pod_hours": totals["usage_rows"]["k8s_pod_hour"], "files": len(files),
            "bytes": sum(p.stat().st_size for p in files)}


BILLING_SOURCES = ("aws", "gcp", "azure")


def bill_files(data: str, source: str) -> list[str]:
    root = Path(data)
    if source == "aws":
        return [str(root / "aws")] if (root / "aws").exists() else []
    if source == "gcp":
        return sorted(str(p) for p in (root / "gcp").glob("billing_export.*"))
    return sorted(str(p) for p in (root / "azure").glob("*.csv"))


def stage_ingest_billing(db: str, config: str, data: str,
                         sources: list[str] | None = None) -> dict[str, Any]:
    """``finops ingest aws-cur | gcp-billing | azure``, one after the other, each timed."""
    command = {"aws": "aws-cur", "gcp": "gcp-billing", "azure": "azure"}
    seconds: dict[str, float] = {}
    for source in sources or BILLING_SOURCES:
        files = bill_files(data, source)
        if files:
            began = time.perf_counter()
            _finops(db, config, "ingest", command[source], *files)
            seconds[source] = round(time.perf_counter() - began, 3)
    return {"rows": _count(db, "SELECT count(*) FROM cost_line"), "sources": seconds}


def usage_dirs(data: str) -> list[Path]:
    """The usage delivery: one directory, or one per day (``usage/day=YYYY-MM-DD``)."""
    root = Path(data) / "usage"
    days = sorted(p for p in root.glob("day=*") if p.is_dir())
    return days or [root]


def stage_ingest_usage(db: str, config: str, data: str) -> dict[str, Any]:
    """One ``finops ingest usage DIR`` over the whole delivery (a recording, or the daily
    recordings of ``usage/day=*``, loaded in one transaction)."""
    _finops(db, config, "ingest", "usage", str(Path(data) / "usage"))
    return {"rows": _count(db, "SELECT count(*) FROM k8s_pod_hour"),
            "deliveries": len(usage_dirs(data))}


# A stage's result may hold, under this key, a function checking its work: the harness runs
# it after the measured part (``stage.measure``) and reports what it returns.
AFTER = "after"


def stage_allocate(db: str, config: str, start: str, end: str) -> dict[str, Any]:
    """``finops --no-publish allocate`` of the window: the allocation alone, as ``finops run``
    allocates; the publish stage that follows publishes (and builds the window's rollups)."""
    _finops(db, config, "allocate", "--start", start, "--end", end, publish=False)
    return {AFTER: lambda: allocate_checks(db)}


def allocate_checks(db: str) -> dict[str, Any]:
    """What the allocate stage produced, and the whole ``reconciliation`` view summed: read
    after its measured part (the run verified its own days before committing them)."""
    return {
        "rows": _count(db, "SELECT count(*) FROM k8s_pod_hour"),
        "allocation_rows": _count(db, "SELECT count(*) FROM allocation"),
        "bill_lines": _count(db, "SELECT count(*) FROM cost_line"),
        "reconciliation_difference": _count(
            db, "SELECT sum(abs(difference)) * 100 FROM reconciliation"
        ),
    }


def stage_publish(db: str, config: str) -> dict[str, Any]:
    from finops.warehouse import Warehouse

    with Warehouse(Path(db)) as warehouse:
        snapshot = warehouse.publish()
    return {"bytes": snapshot.stat().st_size}


API_PATHS = (
    "/healthz",
    "/api/allocation?start={start}&end={end}&aggregate=team",
    "/api/allocation?start={start}&end={end}&aggregate=namespace&step=day",
    "/api/unowned?start={start}&end={end}",
    "/api/coverage",
    "/api/budgets",
    "/api/teams",
    "/dashboards/",
)


def stage_api(db: str, config: str, start: str, end: str, token: str,
              repeat: int = 5) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from finops.api.app import create_app
    from finops.settings import get_settings

    client = TestClient(create_app(get_settings(db=Path(db), config=Path(config))))
    headers = {"Authorization": f"Bearer {token}"}
    timings: dict[str, list[float]] = {}
    for _ in range(repeat):
        for template in API_PATHS:
            path = template.format(start=start, end=end)
            began = time.perf_counter()
            response = client.get(path, headers=headers)
            timings.setdefault(template, []).append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")
    return {"rows": repeat * len(API_PATHS),
            "latency_ms": {k: {"p50": _pct(v, 50), "max": round(max(v), 1)}
                           for k, v in timings.items()}}


def stage_budgets(db: str, config: str, end: str) -> dict[str, Any]:
    _finops(db, config, "budgets", "check", "--as-of", end)
    return {"rows": _count(db, "SELECT count(*) FROM cost_by_team_daily")}


def _pct(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, len(ordered) * pct // 100)], 1)


if __name__ == "__main__":  # handy for one-off runs: python -m benchmarks.stages NAME JSON
    print(json.dumps(globals()[sys.argv[1]](**json.loads(sys.argv[2]))))  # noqa: T201
