"""Retention removes raw rows past their months, never those of a day not yet allocated, and
the allocation, the reconciliation and the changed days stay right afterwards."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from finops import retention
from finops.pipeline.allocate import allocate_days, run_allocation
from finops.pipeline.incremental import config_fingerprint, owed
from finops.settings import RetentionSettings
from finops.warehouse import Warehouse
from models.config import parse_config
from models.errors import ConfigError, InputError
from tests.support import run_cli
from tests.support.history import deliver, runs_by_day, usage

CONFIG = parse_config({})
KEEP_ONE = RetentionSettings(usage_months=1, bill_months=1)
MONTHS = (date(2024, 8, 1), date(2024, 9, 1), date(2024, 10, 1))


def history(wh: Warehouse) -> None:
    """Two days of usage and bill in each of August, September and October, allocated."""
    for first in MONTHS:
        usage(wh, first, 2)
        deliver(wh, {first: 30.0, first.replace(day=2): 30.0})
    with wh.reader() as reader:
        allocate_days(wh, CONFIG, owed(reader, CONFIG).days)


def counts(wh: Warehouse) -> dict[str, int]:
    return {table: wh.frame(f"SELECT count(*) AS n FROM {table}")["n"].item()
            for table in ("k8s_pod_hour", "k8s_node_hour", "cost_line", "allocation")}


def planned(wh: Warehouse, settings: RetentionSettings = KEEP_ONE) -> retention.Plan:
    with wh.reader() as reader:
        return retention.plan(reader, settings, config_fingerprint(CONFIG))


@pytest.fixture(scope="module")
def allocated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The history, built and allocated once; each test gets its own copy."""
    db = tmp_path_factory.mktemp("history") / "wh.duckdb"
    with Warehouse(db) as warehouse:
        history(warehouse)
    return db


@pytest.fixture
def wh(allocated: Path, tmp_path: Path) -> Warehouse:
    shutil.copyfile(allocated, tmp_path / "wh.duckdb")
    return Warehouse(tmp_path / "wh.duckdb")


def test_raw_rows_past_their_months_go_and_the_allocation_stays(wh: Warehouse) -> None:
    before = counts(wh)
    plan = planned(wh)
    assert plan.newest == date(2024, 10, 2) and plan.held_at is None
    assert {c.table.name: (c.kept_from, c.rows) for c in plan.cuts} == {
        "k8s_node_hour": (date(2024, 9, 1), 48), "k8s_pod_hour": (date(2024, 9, 1), 96),
        "k8s_quota_hour": (date(2024, 9, 1), 0), "k8s_volume_hour": (date(2024, 9, 1), 0),
        "k8s_lb_hour": (date(2024, 9, 1), 0), "cost_line": (date(2024, 9, 1), 2)}
    report = retention.apply(wh, plan)
    after = counts(wh)
    assert after == {"k8s_pod_hour": before["k8s_pod_hour"] - 96,
                     "k8s_node_hour": before["k8s_node_hour"] - 48,
                     "cost_line": before["cost_line"] - 2, "allocation": before["allocation"]}
    # Measured on the file after a CHECKPOINT (a file this small may even grow: DuckDB
    # rewrites the row groups it deleted from; the L history measures what it frees).
    assert report.after.file_bytes == wh.path.stat().st_size
    assert report.before.block_size == report.after.block_size > 0
    # The August days keep their allocation; the reconciliation leaves out the days whose
    # bill is gone, and every other day still adds up.
    recon = wh.frame("SELECT min(day) AS first, sum(abs(difference)) AS off, count(*) AS n "
                     "FROM reconciliation").row(0, named=True)
    assert recon["first"] == date(2024, 9, 1) and float(recon["off"]) == 0 and recon["n"] == 4
    assert planned(wh).rows == 0  # applied: nothing more to remove
    wh.close()


def test_a_day_not_yet_allocated_holds_the_cut_back(wh: Warehouse) -> None:
    usage(wh, date(2024, 8, 3))  # late usage: marked changed, not allocated
    plan = planned(wh)
    assert plan.held_at == date(2024, 8, 3)
    assert {c.kept_from for c in plan.cuts} == {date(2024, 8, 3)}
    retention.apply(wh, plan)
    left = wh.frame("SELECT min(hour) AS first FROM k8s_pod_hour")["first"].item()
    assert left.date() == date(2024, 8, 3)
    wh.close()


def test_days_before_the_raw_data_are_never_allocated_again(wh: Warehouse) -> None:
    retention.apply(wh, planned(wh))
    august = {d: r for d, r in runs_by_day(wh).items() if d.month == 8}
    shared = parse_config({"allocation": {"shared_namespaces": ["web"]}})
    with wh.reader() as reader:
        found = owed(reader, shared)
    assert found.kept_from == date(2024, 9, 1)
    assert found.days == [date(2024, m, d) for m in (9, 10) for d in (1, 2)]
    allocate_days(wh, shared, found.days)
    assert {d: r for d, r in runs_by_day(wh).items() if d.month == 8} == august
    with pytest.raises(InputError, match="retention removed the raw data before 2024-09-01"):
        run_allocation(wh, shared, date(2024, 8, 1), date(2024, 8, 2))
    wh.close()


def test_allocation_kept_for_a_while_goes_with_its_bookkeeping(wh: Warehouse) -> None:
    settings = RetentionSettings(usage_months=1, bill_months=1, allocation_months=1)
    retention.apply(wh, planned(wh, settings))
    assert min(runs_by_day(wh)) == date(2024, 9, 1)
    assert wh.frame("SELECT min(day) AS d FROM allocated_day")["d"].item() == date(2024, 9, 1)
    wh.close()


def test_allocation_must_outlive_the_raw_data() -> None:
    with pytest.raises(ValueError, match="at least the usage and bill months"):
        RetentionSettings(usage_months=3, bill_months=13, allocation_months=6)


def test_the_cli_dry_run_removes_nothing_and_apply_reports_the_space(
        wh: Warehouse, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    db = wh.path
    wh.close()
    before = Warehouse(db)
    rows = counts(before)
    before.close()
    config = db.with_name("finops.yaml")
    config.touch()
    monkeypatch.setenv("FINOPS_RETENTION__USAGE_MONTHS", "1")
    monkeypatch.setenv("FINOPS_RETENTION__BILL_MONTHS", "1")
    cli = ["--db", str(db), "--config", str(config), "retention", "apply"]
    code, out, err = run_cli([*cli, "--dry-run"], capsys)
    assert code == 0, err
    assert "k8s_pod_hour       kept from 2024-09-01  would remove           96 rows" in out
    with Warehouse(db) as again:
        assert counts(again) == rows
    code, out, err = run_cli(cli, capsys)
    assert code == 0, err
    assert "Removed 146 rows. File " in err and "freed" in err
    monkeypatch.setenv("FINOPS_RETENTION__ALLOCATION_MONTHS", "1")
    monkeypatch.setenv("FINOPS_RETENTION__BILL_MONTHS", "13")
    code, out, err = run_cli(cli, capsys)
    assert code == 1 and "Error: FINOPS_RETENTION: " in err


def test_a_bad_retention_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from finops.settings import get_settings

    monkeypatch.setenv("FINOPS_RETENTION__USAGE_MONTHS", "-1")
    with pytest.raises(ConfigError, match="FINOPS_RETENTION__USAGE_MONTHS: Input should be"):
        get_settings()
