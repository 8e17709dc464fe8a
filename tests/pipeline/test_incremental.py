"""``finops allocate --changed``: exactly the days changed since their last allocation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
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
from models.schemas import COST_LINE, K8S_NAMESPACE, K8S_NODE_HOUR, K8S_POD_HOUR
from tests.support import run_cli
from tests.support.loads import PERIOD_KEYS
from tests.support.rows import bill_row, labels, node_rows, ns_row, pod_rows

NODE = "aws:///us-east-1a/i-0aaa00000000000a"
INSTANCE = "i-0aaa00000000000a"
OCT = datetime(2024, 10, 1)
USAGE = "cluster = 'c1' AND hour >= $s AND hour < $e"
ROWS = "SELECT * EXCLUDE (run_id) FROM allocation ORDER BY ALL"


def day(n: int) -> date:
    return date(2024, 10, n)


def usage(wh: Warehouse, first: int, n_days: int) -> None:
    """Node and pod hours of October ``first`` .. ``first + n_days - 1``, replacing them."""
    start = datetime(2024, 10, first)
    n = 24 * n_days
    window = {"s": start, "e": start + timedelta(days=n_days)}
    nodes = pl.DataFrame(node_rows("a", provider_id=NODE, start=start, n_hours=n))
    pods = pl.DataFrame(pod_rows("pay-1", "a", "payments", start=start, n_hours=n,
                                 pod_labels=labels(team="payments"))
                        + pod_rows("web-1", "a", "web", start=start, n_hours=n))
    wh.load(Load(IngestRun(new_run_id("usage"), "usage", None, None, []),
                 [Replace(K8S_NODE_HOUR, nodes, USAGE, window),
                  Replace(K8S_POD_HOUR, pods, USAGE, window)]))


def deliver(wh: Warehouse, daily: dict[int, float], *, monthly: float = 31.0) -> None:
    """The October bill: the node's cost per day and a monthly support fee."""
    lines = [bill_row(INSTANCE, cost, day=day(d)) for d, cost in daily.items()]
    lines.append(bill_row(None, monthly, service_name="Support", day=day(1),
                          charge_period_end=datetime(2024, 11, 1)))
    rows = pl.DataFrame(lines).drop("day").with_columns(
        billing_period_start=pl.lit(OCT), x_source=pl.lit("aws-cur"))
    wh.load(Load(IngestRun(new_run_id("aws-cur"), "aws-cur", None, None, []),
                 [Replace(COST_LINE, rows, keys=PERIOD_KEYS)]))


def seed(wh: Warehouse) -> None:
    usage(wh, 1, 3)
    deliver(wh, {1: 30.0, 2: 30.0, 3: 30.0})
    wh.load(Load(IngestRun(new_run_id("ns"), "ns", None, None, []),
                 [Replace(K8S_NAMESPACE, pl.DataFrame([ns_row("web", team="web")]),
                          "cluster = 'c1'")]))


def allocate_changed(wh: Warehouse, config: FinOpsConfig) -> list[date]:
    with wh.reader() as reader:
        days = owed(reader, config).days
    allocate.allocate_days(wh, config, days)
    return days


def runs_by_day(wh: Warehouse) -> dict[date, str]:
    rows = wh.frame("SELECT DISTINCT day, run_id FROM allocation")
    return dict(zip(rows["day"], rows["run_id"], strict=True))


@pytest.fixture
def seeded(tmp_path: Path) -> Warehouse:
    wh = Warehouse(tmp_path / "wh.duckdb")
    seed(wh)
    return wh


def test_the_first_run_allocates_every_loaded_day_and_then_nothing(seeded: Warehouse) -> None:
    config = parse_config({})
    assert allocate_changed(seeded, config) == [day(d) for d in range(1, 32)]  # the fee's month
    assert allocate_changed(seeded, config) == []
    seeded.close()


def test_a_new_usage_day_allocates_that_day_only(seeded: Warehouse) -> None:
    config = parse_config({})
    allocate_changed(seeded, config)
    before = runs_by_day(seeded)
    usage(seeded, 4, 1)
    assert allocate_changed(seeded, config) == [day(4)]
    after = runs_by_day(seeded)
    assert {d for d in after if after[d] != before[d]} == {day(4)}
    seeded.close()


def test_a_bill_restatement_allocates_its_changed_days(seeded: Warehouse) -> None:
    config = parse_config({})
    allocate_changed(seeded, config)
    deliver(seeded, {1: 30.0, 2: 45.0, 3: 30.0})  # day 2 restated
    assert allocate_changed(seeded, config) == [day(2)]
    deliver(seeded, {1: 30.0, 2: 45.0, 3: 30.0}, monthly=62.0)  # the month's fee restated
    assert allocate_changed(seeded, config) == [day(d) for d in range(1, 32)]
    seeded.close()


def test_a_config_change_allocates_everything_and_a_budget_change_nothing(
        seeded: Warehouse) -> None:
    allocate_changed(seeded, parse_config({}))
    budgets = parse_config({"budgets": [{"name": "b", "team": "web", "amount": 10}]})
    assert config_fingerprint(budgets) == config_fingerprint(parse_config({}))
    assert allocate_changed(seeded, budgets) == []
    shared = parse_config({"allocation": {"shared_namespaces": ["web"]}})
    assert allocate_changed(seeded, shared) == [day(d) for d in range(1, 32)]
    assert allocate_changed(seeded, shared) == []
    seeded.close()


def test_a_failed_allocation_leaves_the_days_marked(seeded: Warehouse,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config({})
    allocate_changed(seeded, config)
    before = runs_by_day(seeded)
    usage(seeded, 4, 1)

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
    usage(seeded, 4, 2)
    deliver(seeded, {1: 30.0, 2: 45.0, 3: 30.0, 4: 30.0, 5: 28.0})
    allocate_changed(seeded, config)
    incremental = seeded.frame(ROWS)
    allocate.run_allocation(seeded, config, day(1), day(31))
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
    assert ("31 days changed: 2024-10-01..2024-10-03 (cost_line, k8s_namespace, k8s_node_hour, "
            "k8s_pod_hour); 2024-10-04..2024-10-31 (cost_line)") in err
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
