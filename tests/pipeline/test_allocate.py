"""The allocation pipeline end to end on a real DuckDB file: tables -> `finops allocate`
(CLI) -> reconciliation 0; the inputs it reads; the read-back check."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from finops.allocation.inputs import BILL_KEYS, MONEY, AllocationInputs, compact_bill, conform_bill
from finops.pipeline import allocate
from finops.pipeline.allocate import run_allocation
from finops.pipeline.inputs import read_day
from finops.pipeline.runner import OUTSIDE, WHOLE_DAY, PartitionKey
from finops.warehouse import Warehouse
from models.config import parse_config
from models.errors import ReconciliationError
from models.loads import IngestRun, Load, Replace
from models.schemas import COST_LINE, K8S_NAMESPACE, K8S_NODE_HOUR, K8S_POD_HOUR
from tests.support import exit_code
from tests.support.rows import bill_row, labels, node_rows, ns_row, pod_rows

NODE_A = "aws:///us-east-1a/i-0aaa00000000000a"
NODE_B = "aws:///us-east-1a/i-0bbb00000000000b"


def _seed(db: Path) -> None:
    nodes = node_rows("a", provider_id=NODE_A, n_hours=48) + node_rows("b", provider_id=NODE_B,
                                                                       n_hours=48)
    pods = (pod_rows("pay-1", "a", "payments", n_hours=48, pod_labels=labels(team="payments"))
            + pod_rows("web-1", "b", "web", n_hours=48))
    bill = [bill_row("i-0aaa00000000000a", 30.0, day=date(2024, 5, d)) for d in (1, 2)]
    bill += [bill_row("i-0bbb00000000000b", 12.5, account="acct-2", day=date(2024, 5, 1))]
    # A monthly fee spread over the month by cost_line_daily, and a tax line.
    bill += [bill_row(None, 31.0, service_name="Support", charge_frequency="Recurring",
                      charge_period_start=datetime(2024, 5, 1),
                      charge_period_end=datetime(2024, 6, 1))]
    bill += [bill_row(None, 2.0, charge_category="Tax", day=date(2024, 5, 2),
                      charge_period_start=datetime(2024, 5, 2),
                      charge_period_end=datetime(2024, 5, 3))]
    frames = [(COST_LINE, pl.DataFrame(bill).drop("day")), (K8S_NODE_HOUR, pl.DataFrame(nodes)),
              (K8S_POD_HOUR, pl.DataFrame(pods)),
              (K8S_NAMESPACE, pl.DataFrame([ns_row("web", team="web")]))]
    with Warehouse(db) as wh:
        run = IngestRun("seed", "test", None, None, [])
        wh.load(Load(run, [Replace(t, f) for t, f in frames]))


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row


def _cli(db: Path, *args: str) -> None:
    config = db.with_suffix(".yaml")
    config.touch()  # an empty finops.yaml: zero-config defaults (a named config must exist)
    code = exit_code(["--db", str(db), "--config", str(config), *args])
    assert code == 0, f"finops {' '.join(args)} exited {code}"


def test_allocate_cli_reconciles_to_zero(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "wh.duckdb"
    _seed(db)
    _cli(db, "allocate", "--start", "2024-05-01", "--end", "2024-05-02")
    printed = capsys.readouterr().out
    assert "allocated to teams" in printed
    con = duckdb.connect(str(db), read_only=True)
    diff, rows = _one(con, "SELECT sum(abs(difference)), count(*) FROM reconciliation")
    assert rows == 3 and float(diff) == 0.0  # (05-01, acct-1), (05-01, acct-2), (05-02, acct-1)
    billed = _one(con, "SELECT round(sum(effective_cost), 2) FROM allocation "
                         "WHERE price_source = 'bill'")[0]
    # node a 30+30, node b 12.5, support fee 1/31 of 31 per day x 2, tax 2
    assert billed == pytest.approx(30 + 30 + 12.5 + 2 + 2)
    # node b has no bill on 05-02: priced at the reference prices (4 vCPU, 16 GiB) x 24 h
    estimate = _one(con, "SELECT sum(effective_cost), sum(billed_cost) FROM allocation "
                           "WHERE price_source = 'configured'")
    assert estimate[0] == pytest.approx((4 * 0.031611 + 16 * 0.004237) * 24)
    assert estimate[1] == 0
    total = _one(con, "SELECT round(sum(effective_cost), 2) FROM allocation")[0]
    con.close()
    # Re-running replaces the window (idempotent), never appends.
    _cli(db, "allocate", "--start", "2024-05-01", "--end", "2024-05-02")
    con = duckdb.connect(str(db), read_only=True)
    again = _one(con, "SELECT round(sum(effective_cost), 2) FROM allocation")
    assert again[0] == total
    assert _one(con, "SELECT count(DISTINCT run_id) FROM allocation")[0] == 1
    con.close()


def test_explain_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "wh.duckdb"
    _seed(db)
    _cli(db, "allocate", "--start", "2024-05-01", "--end", "2024-05-01")
    capsys.readouterr()
    _cli(db, "explain", "--team", "payments", "--start", "2024-05-01", "--end", "2024-05-01",
         "--format", "json")
    report = json.loads(capsys.readouterr().out)
    assert report["team"] == "payments"
    assert report["direct_compute"][0]["owner_rule"] == "pod-label"
    assert report["total"] == pytest.approx(sum(i["effective_cost"] for i in report["rules"]),
                                            abs=0.02)



def test_the_bill_is_read_compacted_exactly_as_the_engine_compacts_it(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    _seed(db)
    hourly = [bill_row("i-0aaa00000000000a", 1.25, day=date(2024, 5, 1),
                       charge_period_start=datetime(2024, 5, 1, h),
                       charge_period_end=datetime(2024, 5, 1, h, 59)) for h in range(24)]
    split = [bill_row("i-0aaa00000000000a", 0.5, day=date(2024, 5, 1), x_namespace="payments",
                      x_pod="pay-1", charge_period_start=datetime(2024, 5, 1, h),
                      charge_period_end=datetime(2024, 5, 1, h, 59)) for h in (3, 3, 4)]
    with Warehouse(db) as wh:
        wh.load(Load(IngestRun("more", "test", None, None, []),
                     [Replace(COST_LINE, pl.DataFrame(hourly + split).drop("day"), "false", {})]))
        raw = conform_bill(wh.frame("SELECT * FROM cost_line_daily WHERE day = '2024-05-01'"))
        inputs = read_day(wh, date(2024, 5, 1), AllocationInputs())
    read = inputs.bill
    assert inputs.bill_is_compact  # the engine takes it as it is: it must be compact already
    expected = compact_bill(raw)
    assert read.height == expected.height < raw.height
    order = [c for c in BILL_KEYS if c != "tags"]
    got = read.select(expected.columns).sort(order, nulls_last=True)
    want = expected.sort(order, nulls_last=True)
    assert got.drop(MONEY).equals(want.drop(MONEY))
    for m in MONEY:
        assert (got[m] - want[m]).abs().max() < 1e-9
    total = [round(float(f["effective_cost"].sum()), 2) for f in (read, raw)]
    assert total[0] == total[1]


def test_a_read_back_that_disagrees_commits_nothing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The reconciliation view is read back inside the replacing transaction: it sees the new
    rows, and when it fails the window keeps the previous run's rows."""
    db = tmp_path / "wh.duckdb"
    _seed(db)
    config = parse_config({})
    seen: list[list[str]] = []

    def disagreeing(wh: Warehouse, window: dict[str, Any]) -> None:
        seen.append(wh.frame("SELECT DISTINCT run_id FROM allocation")["run_id"].to_list())
        raise ReconciliationError("the reconciliation view disagrees")

    with Warehouse(db) as wh:
        first = run_allocation(wh, config, date(2024, 5, 1), date(2024, 5, 2))
        monkeypatch.setattr(allocate, "verify", disagreeing)
        with pytest.raises(ReconciliationError):
            run_allocation(wh, config, date(2024, 5, 1), date(2024, 5, 2))
        kept = wh.frame("SELECT DISTINCT run_id FROM allocation")["run_id"].to_list()
    assert len(seen) == 1 and seen[0] != [first.run_id]  # the check saw the new run's rows
    assert kept == [first.run_id]


class SerialRunner:
    """The runner interface at its plainest: one key after the other, on this thread."""

    def __init__(self, per_cluster: bool) -> None:
        self.per_cluster = per_cluster
        self.keys: list[PartitionKey] = []

    def run(self, keys: Sequence[PartitionKey], read: Callable[[PartitionKey], Any],
            partition: Callable[[PartitionKey, Any], Any]) -> Generator[Any, None, None]:
        self.keys = list(keys)
        return (partition(key, read(key)) for key in keys)


@pytest.mark.parametrize("per_cluster", [False, True], ids=["whole-days", "cluster-days"])
def test_another_runner_allocates_the_same_window(tmp_path: Path, per_cluster: bool) -> None:
    db = tmp_path / "wh.duckdb"
    _seed(db)
    config = parse_config({})
    rows = "SELECT * EXCLUDE (run_id) FROM allocation ORDER BY ALL"
    with Warehouse(db) as wh:
        local = run_allocation(wh, config, date(2024, 5, 1), date(2024, 5, 2))
        by_threads = wh.frame(rows)
        runner = SerialRunner(per_cluster)
        serial = run_allocation(wh, config, date(2024, 5, 1), date(2024, 5, 2), runner=runner)
        assert wh.frame(rows).equals(by_threads)
    # per cluster: each day's spend outside clusters, then each of its clusters
    clusters = {k.cluster for k in runner.keys}
    assert clusters == ({OUTSIDE, "c1"} if per_cluster else {WHOLE_DAY})
    assert (serial.rows, serial.partitions) == (local.rows, local.partitions)
    assert serial.totals == pytest.approx(local.totals)


class ThreadsSeen(SerialRunner):
    """Records DuckDB's ``threads`` as each key is read, i.e. while the days stream, and
    whether the day's reader has a second reader for the pod-hours."""

    def __init__(self) -> None:
        super().__init__(per_cluster=False)
        self.seen: set[str] = set()
        self.side: bool | None = None

    def run(self, keys: Sequence[PartitionKey], read: Callable[[PartitionKey], Any],
            partition: Callable[[PartitionKey, Any], Any]) -> Generator[Any, None, None]:
        reader = read.reader  # type: ignore[attr-defined]  # the pipeline's DayReader
        self.side = read.side is not None  # type: ignore[attr-defined]

        def each() -> Generator[Any, None, None]:
            for key in keys:
                self.seen.add(str(reader.frame("SELECT current_setting('threads') AS t")["t"][0]))
                yield partition(key, read(key))
        return each()


def test_duckdb_reads_on_one_thread_while_days_stream_and_on_all_for_one_day(
        tmp_path: Path) -> None:
    """Two days: DuckDB on one thread beside Polars' engine; one day has nothing to run
    beside its read, which gets the warehouse's threads and a second reader."""
    db = tmp_path / "wh.duckdb"
    _seed(db)
    config = parse_config({})
    with Warehouse(db) as wh:
        own = str(wh.frame("SELECT current_setting('threads') AS t")["t"][0])
        two, one = ThreadsSeen(), ThreadsSeen()
        run_allocation(wh, config, date(2024, 5, 1), date(2024, 5, 2), runner=two)
        run_allocation(wh, config, date(2024, 5, 2), date(2024, 5, 2), runner=one)
    assert own != "1"  # this warehouse has more than one thread (2 cores here)
    assert (two.seen, one.seen) == ({"1"}, {own})
    assert (two.side, one.side) == (False, True)
