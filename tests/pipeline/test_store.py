"""``store``: a stream of frames is spooled, then loaded in one transaction, all or nothing;
``ingest``: a collector's failure is recorded as a failed run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from finops.pipeline.store import ingest, store
from finops.warehouse import Warehouse
from models.errors import CollectorError, SchemaMismatch, WarehouseError
from models.loads import Load, Replace
from models.schemas import COST_LINE
from tests.support.loads import PERIOD_KEYS, bill, bill_run, totals


def test_a_failed_stream_leaves_the_previous_data(warehouse: Warehouse) -> None:
    store(warehouse, Load(bill_run(), [Replace(COST_LINE, bill("111", [1.0]), keys=PERIOD_KEYS)]))
    broken = iter([bill("111", [9.0]), pl.DataFrame({"bogus": [1]})])
    with pytest.raises(SchemaMismatch, match="cost_line: undeclared columns"):
        store(warehouse, Load(bill_run(), [Replace(COST_LINE, broken, keys=PERIOD_KEYS)]))
    assert totals(warehouse) == {"111": 1.0}
    status = warehouse.frame("SELECT status, error FROM ingest_runs ORDER BY started_at")
    assert status["status"].to_list() == ["ok", "failed"]
    assert "bogus" in status["error"][1]


def test_a_stream_swaps_the_window_at_once_or_not_at_all(tmp_path: Path) -> None:
    window = "billing_account_id = $account"
    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.load(Load(bill_run(), [Replace(COST_LINE, bill("111", [1.0, 2.0]), "true", {})]))

        def failing() -> Iterator[pl.DataFrame]:
            yield bill("111", [5.0])
            raise WarehouseError("day 2 does not reconcile")

        with pytest.raises(WarehouseError, match="does not reconcile"):
            store(wh, Load(bill_run(), [Replace(COST_LINE, failing(), window, {"account": "111"})]))
        assert totals(wh) == {"111": 3.0}  # the old rows, untouched
        failed = wh.frame("SELECT status FROM ingest_runs ORDER BY started_at DESC LIMIT 1")
        assert failed["status"][0] == "failed"

        batches = iter([bill("111", [5.0]), bill("111", [0.25, 0.5])])
        item = Replace(COST_LINE, batches, window, {"account": "111"})
        done = store(wh, Load(bill_run(), [item]))
        assert (done.status, done.rows) == ("ok", 3)
        assert totals(wh) == {"111": 5.75}
    assert not list(tmp_path.glob(".finops-spool-*"))  # the spool is gone either way


def test_a_check_that_fails_inside_the_transaction_commits_nothing(warehouse: Warehouse) -> None:
    store(warehouse, Load(bill_run(), [Replace(COST_LINE, bill("111", [1.0]), keys=PERIOD_KEYS)]))
    seen: list[dict[str, float]] = []

    def check() -> None:
        seen.append(totals(warehouse))
        raise WarehouseError("the read-back disagrees")

    with pytest.raises(WarehouseError, match="read-back"):
        stream = iter([bill("111", [7.0])])
        store(warehouse, Load(bill_run(), [Replace(COST_LINE, stream, keys=PERIOD_KEYS)]),
              check=check)
    assert seen == [{"111": 7.0}] and totals(warehouse) == {"111": 1.0}


def test_spooling_settings_hold_while_the_stream_is_read_and_the_load_has_its_own(
        warehouse: Warehouse) -> None:
    def threads() -> str:
        return str(warehouse.frame("SELECT current_setting('threads') AS t")["t"][0])

    before, seen = threads(), []

    def batches() -> Iterator[pl.DataFrame]:
        seen.append(("stream", threads()))
        yield bill("111", [2.0])

    stream = Replace(COST_LINE, batches(), keys=PERIOD_KEYS)
    store(warehouse, Load(bill_run(), [stream]), spooling={"threads": "1"},
          check=lambda: seen.append(("load", threads())))
    assert before != "1"  # the fixture's warehouse runs on its default threads (2 cores here)
    assert seen == [("stream", "1"), ("load", before)] and threads() == before
    assert totals(warehouse) == {"111": 2.0}


def test_a_collector_failure_is_a_failed_run_and_loads_nothing(warehouse: Warehouse) -> None:
    folders: list[Path] = []

    def collect(work: Path) -> list[Load]:
        folders.append(work)
        assert work.is_dir()
        raise CollectorError("somewhere", "unreachable")

    with pytest.raises(CollectorError, match="somewhere: unreachable"):
        ingest(warehouse, "focus", ["a.csv"], collect, start=datetime(2026, 10, 1))
    runs = warehouse.frame("SELECT source, status, files, window_start, error FROM ingest_runs")
    assert runs.rows() == [("focus", "failed", ["a.csv"], datetime(2026, 10, 1),
                            "somewhere: unreachable")]
    assert not folders[0].exists()  # the scratch folder is removed


def test_ingest_stores_every_load_in_order(warehouse: Warehouse) -> None:
    loads = [Load(bill_run(), [Replace(COST_LINE, bill(a, [c]), keys=PERIOD_KEYS)])
             for a, c in (("111", 1.0), ("222", 2.0))]
    runs = ingest(warehouse, "aws-cur", [], lambda _work: loads)
    assert [r.status for r in runs] == ["ok", "ok"] and [r.rows for r in runs] == [1, 1]
    assert totals(warehouse) == {"111": 1.0, "222": 2.0}


@pytest.mark.parametrize(("batches", "spooled"), [([], 0), ([[4.0, 5.0]], 0),
                                                   ([[4.0], [5.0]], 3)])
def test_a_stream_of_one_frame_is_loaded_as_it_is_and_longer_ones_are_spooled(
        tmp_path: Path, batches: list[list[float]], spooled: int) -> None:
    seen: list[int] = []
    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.load(Load(bill_run(), [Replace(COST_LINE, bill("111", [1.0]), "true", {})]))
        stream = iter([bill("111", costs) for costs in batches])

        def check() -> None:  # inside the load's transaction: the spool is still there
            seen.append(len(list(tmp_path.glob(".finops-spool-*/*/*.parquet"))))

        done = store(wh, Load(bill_run(), [Replace(COST_LINE, stream, "true", {})]),
                     check=check)
        assert done.rows == sum(len(costs) for costs in batches)
        assert totals(wh) == ({"111": sum(sum(c) for c in batches)} if batches else {})
    assert seen == [spooled]  # the empty header file and one per batch, only when spooled
