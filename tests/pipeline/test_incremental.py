"""``finops allocate --changed``: exactly the days changed since their last allocation."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from finops.pipeline import allocate
from finops.pipeline.incremental import config_fingerprint, owed
from finops.warehouse import Warehouse
from models.config import FinOpsConfig, parse_config
from models.errors import ReconciliationError
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import K8S_NAMESPACE
from tests.support import run_cli
from tests.support.history import deliver, runs_by_day, usage
from tests.support.rows import ns_row

ROWS = "SELECT * EXCLUDE (run_id) FROM allocation ORDER BY ALL"


def day(n: int) -> date:
    return date(2024, 10, n)


def october(wh: Warehouse, daily: dict[int, float], *, monthly: float | None = None) -> None:
    deliver(wh, {day(d): cost for d, cost in daily.items()}, monthly=monthly)


def seed(wh: Warehouse) -> None:
    usage(wh, day(1), 3)
    october(wh, {1: 30.0, 2: 30.0, 3: 30.0})
    wh.load(Load(IngestRun(new_run_id("ns"), "ns", None, None, []),
                 [Replace(K8S_NAMESPACE, pl.DataFrame([ns_row("web", team="web")]),
                          "cluster = 'c1'")]))


def allocate_changed(wh: Warehouse, config: FinOpsConfig) -> list[date]:
    with wh.reader() as reader:
        days = owed(reader, config).days
    allocate.allocate_days(wh, config, days)
    return days


@pytest.fixture
def seeded(tmp_path: Path) -> Warehouse:
    wh = Warehouse(tmp_path / "wh.duckdb")
    seed(wh)
    return wh


def test_the_first_run_allocates_every_loaded_day_and_then_nothing(seeded: Warehouse) -> None:
    config = parse_config({})
    assert allocate_changed(seeded, config) == [day(1), day(2), day(3)]
    assert allocate_changed(seeded, config) == []
    seeded.close()


def test_a_new_usage_day_allocates_that_day_only(seeded: Warehouse) -> None:
    config = parse_config({})
    allocate_changed(seeded, config)
    before = runs_by_day(seeded)
    usage(seeded, day(4))
    assert allocate_changed(seeded, config) == [day(4)]
    after = runs_by_day(seeded)
    assert {d for d in after if after[d] != before.get(d)} == {day(4)}
    seeded.close()


@pytest.mark.slow  # a monthly fee: 31 days allocated
def test_a_bill_restatement_allocates_its_changed_days(seeded: Warehouse) -> None:
    config = parse_config({})
    allocate_changed(seeded, config)
    october(seeded, {1: 30.0, 2: 45.0, 3: 30.0})  # day 2 restated
    assert allocate_changed(seeded, config) == [day(2)]
    october(seeded, {1: 30.0, 2: 45.0, 3: 30.0}, monthly=31.0)  # a monthly fee appears
    assert allocate_changed(seeded, config) == [day(d) for d in range(1, 32)]
    seeded.close()


def test_a_config_change_allocates_everything_and_a_budget_change_nothing(
        seeded: Warehouse) -> None:
    allocate_changed(seeded, parse_config({}))
    budgets = parse_config({"budgets": [{"name": "b", "team": "web", "amount": 10}]})
    assert config_fingerprint(budgets) == config_fingerprint(parse_config({}))
    assert allocate_changed(seeded, budgets) == []
    shared = parse_config({"allocation": {"shared_namespaces": ["web"]}})
    assert allocate_changed(seeded, shared) == [day(1), day(2), day(3)]
    assert allocate_changed(seeded, shared) == []
    seeded.close()


def test_a_failed_allocation_leaves_the_days_marked(seeded: Warehouse,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config({})
    allocate_changed(seeded, config)
    before = runs_by_day(seeded)
    usage(seeded, day(4))

    def disagreeing(wh: Warehouse, window: dict[str, Any]) -> None:
        raise ReconciliationError("the reconciliation view disagrees")

    monkeypatch.setattr(allocate, "verify", disagreeing)
    with pytest.raises(ReconciliationError):
        allocate_changed(seeded, config)
    monkeypatch.undo()
    assert runs_by_day(seeded) == before
    assert allocate_changed(seeded, config) == [day(4)]
    seeded.close()


def test_changed_days_allocate_what_a_full_run_allocates(seeded: Warehouse) -> None:
    """Incremental runs leave the same rows as one run over everything."""
    config = parse_config({"allocation": {"idle": "share-by-request"}})
    allocate_changed(seeded, config)
    usage(seeded, day(4), 2)
    october(seeded, {1: 30.0, 2: 45.0, 3: 30.0, 4: 30.0, 5: 28.0})
    allocate_changed(seeded, config)
    incremental = seeded.frame(ROWS)
    allocate.run_allocation(seeded, config, day(1), day(5))
    assert seeded.frame(ROWS).equals(incremental)
    seeded.close()


def test_the_cli_allocates_the_changed_days_by_default(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "wh.duckdb"
    with Warehouse(db) as wh:
        seed(wh)
    config = tmp_path / "finops.yaml"
    config.touch()
    cli = ["--db", str(db), "--config", str(config), "allocate"]
    code, out, err = run_cli(cli, capsys)
    assert code == 0, err
    assert ("3 days changed: 2024-10-01..2024-10-03 (cost_line, k8s_namespace, k8s_node_hour, "
            "k8s_pod_hour)") in err
    assert "allocated to teams" in out
    published = db.with_name("wh.published.duckdb")
    stamp = published.stat().st_mtime_ns
    code, out, err = run_cli([*cli, "--changed"], capsys)
    assert code == 0 and "Nothing changed since the last allocation." in err
    assert published.stat().st_mtime_ns == stamp  # nothing allocated, nothing published
    for bad in (["--changed", "--start", "2024-10-01", "--end", "2024-10-02"],
                ["--start", "2024-10-01"]):
        code, out, err = run_cli([*cli, *bad], capsys)
        assert code == 1 and "Error: --" in err
