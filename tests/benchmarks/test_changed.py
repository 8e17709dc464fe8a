"""The month-vs-day harness: its ratios, and one process measured by its own rusage."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from benchmarks.changed import ROOT, Changed, measured, one_day_only, ratios
from finops.demo import DEMO_CONFIG
from finops.warehouse import Warehouse


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


RUN = "run allocate-20261202T133921-af1d05a5: {n} days ({days}), 4 partitions, 65822 rows"


def test_the_day_run_must_have_allocated_its_one_day_alone() -> None:
    one_day_only(["1 days changed: 2026-10-30 (k8s_pod_hour).",
                  RUN.format(n=1, days="2026-10-30")], "2026-10-30")
    for said in ([RUN.format(n=2, days="2026-10-30..2026-10-31")],  # a day owed besides
                 [RUN.format(n=1, days="2026-10-29")], ["Nothing changed"]):
        with pytest.raises(SystemExit, match="more or other than 2026-10-30"):
            one_day_only(said, "2026-10-30")


def test_the_days_a_warehouse_still_owes_are_read_from_changed_day(tmp_path: Path) -> None:
    bench = Changed("L", ROOT, workdir=tmp_path / "L")
    bench.db.parent.mkdir(parents=True)
    bench.config.parent.mkdir(parents=True)
    shutil.copyfile(DEMO_CONFIG, bench.config)
    with Warehouse(bench.db):  # a new warehouse owes nothing
        pass
    assert bench.owed() == []
    with Warehouse(bench.db) as wh:
        wh.con.execute("INSERT INTO changed_day VALUES (DATE '2026-10-31', 'cost_line', 'r1', "
                       "now()), (DATE '2026-10-31', 'k8s_pod_hour', 'r2', now())")
        wh.con.execute("CHECKPOINT")
    assert bench.owed() == ["2026-10-31"]
