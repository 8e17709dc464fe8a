"""The harness's arithmetic: floor ratios, rows per second, growth per pod-hour."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from benchmarks.report import growth_table, stages_table
from benchmarks.run import Plan, summarise
from benchmarks.stage import STAGES, measure
from benchmarks.stages import AFTER, stage_allocate, stage_publish
from finops.demo import DEMO_CONFIG
from tests.support.runners import demo_copy


def stage(wall: float, rss: float, rows: int = 0) -> dict[str, object]:
    return {"stage": "x", "wall_s": wall, "cpu_s": wall, "peak_rss_mb": rss, "rows": rows}


def test_summary_computes_floor_ratios_and_throughput(tmp_path: Path) -> None:
    results = {
        "ingest_billing": stage(4.0, 300, 1000),
        "floor_scan_billing": stage(2.0, 100, 1000),
        "ingest_usage": stage(1.0, 200, 500),
        "allocate": stage(3.0, 900, 500),
        "floor_join_allocate": stage(0.5, 150),
    }
    summary = summarise(Plan("S", tmp_path), results)
    assert summary["stages"]["ingest_billing"]["floor_ratio"] == 2.0
    assert summary["stages"]["allocate"]["floor_ratio"] == 6.0
    assert summary["stages"]["ingest_billing"]["rows_per_s"] == 250
    assert summary["total"] == {"wall_s": 8.0, "cpu_s": 8.0, "peak_rss_mb": 900}
    assert summary["pod_hours"] == 500


def test_tables_render(tmp_path: Path) -> None:
    summary = summarise(Plan("S", tmp_path), {"ingest_usage": stage(2.0, 100, 1000)})
    console = Console(record=True, width=200)
    console.print(stages_table(summary))
    console.print(growth_table([summary]))
    text = console.export_text()
    assert "ingest_usage" in text and "2000.00" in text  # 2 s over 1,000 pod-hours = 2000 µs


def test_measure_reports_rss_and_cpu_of_the_process(tmp_path: Path) -> None:
    result = measure("floor_scan_usage", data="/nonexistent", scratch=str(tmp_path / "f.duckdb"))
    assert result["rows"] == 0 and result["peak_rss_mb"] > 10 and result["wall_s"] >= 0


def test_a_stages_checks_run_after_its_measured_part(monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(seconds: float) -> None:
        began = time.process_time()
        while time.process_time() - began < seconds:
            pass

    def check() -> dict[str, Any]:
        busy(0.3)
        return {"rows": 7}

    def checked_stage() -> dict[str, Any]:
        busy(0.05)
        return {AFTER: check}

    monkeypatch.setitem(STAGES, "stage_checked", checked_stage)
    result = measure("stage_checked")
    assert result["rows"] == 7 and AFTER not in result
    assert result["cpu_s"] < 0.25 <= result["check_cpu_s"]  # the check's CPU is its own
    assert result["check_wall_s"] >= result["check_cpu_s"] * 0.9


def test_the_allocate_stage_leaves_publishing_to_the_publish_stage(
        demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # configure() sets these for the process it runs in: keep them this test's own
    monkeypatch.setenv("_RJEM_MALLOC_CONF", "")
    monkeypatch.setenv("POLARS_MAX_THREADS", os.environ.get("POLARS_MAX_THREADS", "2"))
    db = demo_copy(demo_db, tmp_path)
    snapshot = db.with_name("finops.published.duckdb")
    config = str(DEMO_CONFIG)
    found = stage_allocate(str(db), config, "2026-10-01", "2026-10-03")
    assert not snapshot.exists()  # allocated, not published
    assert found[AFTER]()["allocation_rows"] > 0
    assert stage_publish(str(db), config)["bytes"] == snapshot.stat().st_size > 0
