"""The month-vs-day harness: its ratios, and one process measured by its own rusage."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks.changed import ROOT, Changed, measured, ratios


def test_ratios_are_month_over_day_with_and_without_the_publish() -> None:
    result = {"month": {"wall_s": 150.0, "cpu_s": 75.0, "in_process_s": 140.0},
              "day": {"wall_s": 10.0, "cpu_s": 5.0, "in_process_s": 7.0},
              "month_publish": {"wall_s": 30.0, "cpu_s": 15.0},
              "day_publish": {"wall_s": 10.0, "cpu_s": 5.0}}
    assert ratios(result) == {"wall": 15.0, "cpu": 15.0, "in_process": 20.0,
                              "wall_with_publish": 9.0, "cpu_with_publish": 9.0}


@pytest.mark.integration
def test_a_process_is_measured_by_its_own_cpu_and_memory() -> None:
    burn = "x = bytearray(200 * 2**20); s = sum(range(3 * 10**7)); print('done')"
    found = measured([sys.executable, "-c", burn], ROOT)
    assert found["stdout"].strip() == "done"
    assert found["cpu_s"] >= 0.3 and found["peak_rss_mb"] >= 200
    assert found["wall_s"] >= found["cpu_s"] * 0.5
    with pytest.raises(SystemExit, match="failed"):
        measured([sys.executable, "-c", "raise SystemExit(3)"], ROOT)


def test_the_copy_is_run_beside_the_workdir_its_config_from_it() -> None:
    default = Changed("L", ROOT)
    out = ROOT / "benchmarks" / "out"
    assert (default.source, default.db, default.config) == (
        out / "L" / "finops.duckdb", out / "L-changed" / "finops.duckdb",
        out / "L" / "data" / "finops.yaml")
    elsewhere = Changed("L", ROOT, workdir=Path("/mnt/xfs/month"))
    assert (elsewhere.source, elsewhere.db, elsewhere.config) == (
        Path("/mnt/xfs/month/finops.duckdb"), Path("/mnt/xfs/month-changed/finops.duckdb"),
        Path("/mnt/xfs/month/data/finops.yaml"))


def test_a_relative_workdir_is_made_absolute_since_the_commands_run_in_the_codes_tree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = Changed("L", ROOT, workdir=Path("out/month"))
    assert (relative.source, relative.config) == (
        tmp_path / "out/month/finops.duckdb", tmp_path / "out/month/data/finops.yaml")
