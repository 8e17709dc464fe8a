"""Loads are transactional and idempotent; readers see a published read-only snapshot."""

from __future__ import annotations

import filecmp
import re
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

import finops.warehouse as warehouse_module
from finops.warehouse import Warehouse, open_snapshot
from models.errors import ConfigError, WarehouseError
from models.loads import IngestRun, Load, Replace
from models.schemas import COST_LINE, K8S_QUOTA_HOUR
from tests.support.loads import PERIOD_KEYS, bill, bill_run, totals
from tests.support.snapshots import SNAPSHOT_MADE


def by_period(wh: Warehouse, rows: pl.DataFrame) -> IngestRun:
    """Rows replacing the (source, account, period) partitions they hold, as bills load."""
    return wh.load(Load(bill_run(), [Replace(COST_LINE, rows, keys=PERIOD_KEYS)]))


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse(path).close()
    with Warehouse(path) as wh:
        versions = wh.frame("SELECT version FROM schema_version")["version"].to_list()
    assert versions == sorted(set(versions)) and versions[0] == 1


def test_loading_the_same_period_twice_leaves_one_copy(warehouse: Warehouse) -> None:
    for _ in range(2):
        by_period(warehouse, bill("111", [1.25, 2.5]))
    by_period(warehouse, bill("222", [4.0]))
    assert totals(warehouse) == {"111": 3.75, "222": 4.0}


def test_a_newer_delivery_replaces_the_period(warehouse: Warehouse) -> None:
    by_period(warehouse, bill("111", [1.0, 1.0]))
    by_period(warehouse, bill("111", [5.0]))
    assert totals(warehouse) == {"111": 5.0}


def test_a_failed_load_leaves_the_previous_data(warehouse: Warehouse) -> None:
    by_period(warehouse, bill("111", [1.0]))
    with pytest.raises(WarehouseError, match="nothing changed"):
        warehouse.load(Load(bill_run(), [Replace(COST_LINE, bill("111", [9.0]), keys=PERIOD_KEYS),
                                    Replace(K8S_QUOTA_HOUR, "SELECT error('bad row') AS hard")]))
    assert totals(warehouse) == {"111": 1.0}
    status = warehouse.frame("SELECT status, error FROM ingest_runs ORDER BY started_at")
    assert status["status"].to_list() == ["ok", "failed"]
    assert "bad row" in status["error"][1]


def test_replace_where_deletes_only_its_window(warehouse: Warehouse) -> None:
    quota = pl.DataFrame({"cluster": ["a", "b"], "hour": [datetime(2026, 10, 1)] * 2,
                          "hard": [4.0, 8.0]})
    warehouse.load(Load(bill_run(), [Replace(K8S_QUOTA_HOUR, quota)]))
    again = pl.DataFrame({"cluster": ["a"], "hour": [datetime(2026, 10, 1)], "hard": [6.0]})
    warehouse.load(Load(bill_run(), [Replace(K8S_QUOTA_HOUR, again, "cluster = $c", {"c": "a"})]))
    frame = warehouse.frame("SELECT cluster, hard FROM k8s_quota_hour ORDER BY cluster")
    assert frame.rows() == [("a", 6.0), ("b", 8.0)]


def test_sql_rows_are_loaded_by_duckdb(warehouse: Warehouse) -> None:
    select = "SELECT 'c' AS cluster, TIMESTAMP '2026-10-01' AS hour, 2.0 AS hard"
    loaded = warehouse.load(Load(bill_run(), [Replace(K8S_QUOTA_HOUR, select)]))
    assert loaded.rows == 1 and loaded.status == "ok"


def test_labels_are_maps_in_duckdb(warehouse: Warehouse) -> None:
    by_period(warehouse, bill("111", [1.0]))
    row = warehouse.frame("SELECT tags['user:team'] AS team FROM cost_line").rows()
    assert row == [("payments",)]


def test_readers_see_the_published_snapshot_only(warehouse: Warehouse) -> None:
    by_period(warehouse, bill("111", [1.0]))
    snapshot = warehouse.publish()
    assert filecmp.cmp(warehouse.path, snapshot, shallow=False)  # the checkpointed file
    assert re.fullmatch(SNAPSHOT_MADE, warehouse.snapshot_made or "")
    by_period(warehouse, bill("222", [2.0]))  # not yet published
    reader = open_snapshot(snapshot)
    assert reader.execute("SELECT count(*) FROM cost_line").fetchone() == (1,)
    with pytest.raises(duckdb.Error, match="read-only"):
        reader.execute("DELETE FROM cost_line")
    with pytest.raises(duckdb.Error):
        reader.execute("SELECT * FROM read_csv('/etc/passwd')")
    warehouse.publish()
    assert reader.execute("SELECT count(*) FROM cost_line").fetchone() == (1,)  # old handle
    reader.close()  # DuckDB shares one instance per path in a process: reopen after close
    assert open_snapshot(snapshot).execute("SELECT count(*) FROM cost_line").fetchone() == (2,)


def test_a_snapshot_folder_is_made_and_an_unwritable_one_is_named(tmp_path: Path) -> None:
    nested = tmp_path / "published" / "month"  # FINOPS_PUBLISHED_DIR not made yet
    with Warehouse(tmp_path / "w.duckdb", snapshot=nested / "w.published.duckdb") as wh:
        by_period(wh, bill("111", [1.0]))
        assert wh.publish() == nested / "w.published.duckdb"
    assert open_snapshot(nested / "w.published.duckdb").execute(
        "SELECT count(*) FROM cost_line").fetchone() == (1,)
    (tmp_path / "a-file").write_text("not a folder")
    blocked = tmp_path / "a-file" / "w.published.duckdb"
    with Warehouse(tmp_path / "w.duckdb", snapshot=blocked) as wh:
        with pytest.raises(WarehouseError, match=f"cannot write the snapshot {blocked}: "):
            wh.publish()
        assert wh.con.execute("SELECT count(*) FROM cost_line").fetchone() == (1,)  # usable


def test_missing_snapshot_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="finops demo"):
        open_snapshot(tmp_path / "none.duckdb")


def test_cost_line_daily_spreads_multi_day_lines(warehouse: Warehouse) -> None:
    tax = bill("111", [31.0]).with_columns(
        pl.lit(datetime(2026, 10, 1)).alias("charge_period_start"),
        pl.lit(datetime(2026, 11, 1)).alias("charge_period_end"),
    )
    by_period(warehouse, tax)
    daily = warehouse.frame("SELECT day, effective_cost FROM cost_line_daily ORDER BY day")
    assert daily.height == 31
    assert daily["effective_cost"].sum() == pytest.approx(31.0)
    assert daily["effective_cost"][0] == pytest.approx(1.0)


def test_memory_limit_is_lowered_for_a_block_then_restored(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb", memory_limit="3GB") as wh:
        def limit() -> str:
            return str(wh.frame("SELECT current_setting('memory_limit') AS m")["m"][0])

        before = limit()
        with wh.memory_limit("512MiB"):
            assert limit() != before
            assert limit().startswith("512")
        assert limit() == before
        with pytest.raises(ConfigError, match="not a size"):
            with wh.memory_limit("1GB'; DROP TABLE cost_line; --"):
                pass
        assert limit() == before


def test_reader_sees_committed_rows_not_an_open_transaction(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.load(Load(bill_run(), [Replace(COST_LINE, bill("111", [1.25]), "true", {})]))
        with wh.reader() as reader:
            count = "SELECT count(*) AS n FROM cost_line"
            with wh.transaction():
                wh.con.execute("DELETE FROM cost_line")
                assert reader.frame(count)["n"][0] == 1  # the writer's delete is not visible
            assert reader.frame(count)["n"][0] == 0


def test_a_frame_handed_to_a_read_is_a_table_of_that_read_only(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.load(Load(bill_run(), [Replace(COST_LINE, bill("111", [1.25, 2.5, 4.0]), "true", {})]))
        wanted = pl.DataFrame({"cost": [2.5, 4.0, 8.0]})
        sql = "SELECT effective_cost FROM cost_line SEMI JOIN wanted ON effective_cost = cost"
        with wh.reader() as reader:
            found = reader.frame(sql, tables={"wanted": wanted})
            assert sorted(found["effective_cost"]) == [2.5, 4.0]
            with pytest.raises(duckdb.CatalogException, match="wanted"):
                reader.frame(sql)  # unregistered once its read is done
        assert wh.frame(sql, tables={"wanted": wanted}).height == 2


def test_a_frame_smaller_than_a_row_group_is_inserted_on_one_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB writes a row group per thread and merges them: a frame that fills less than
    one is inserted on one thread; the warehouse's threads come back after the load."""
    seen: list[int] = []
    swap = Warehouse._swap

    def watched(self: Warehouse, *args: object) -> int:
        seen.append(self.con.execute("SELECT current_setting('threads')").fetchall()[0][0])
        return swap(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Warehouse, "_swap", watched)
    monkeypatch.setattr(warehouse_module, "ROW_GROUP_ROWS", 3)
    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.con.execute("SET threads = 2")
        wh.load(Load(bill_run(), [Replace(COST_LINE, bill("111", [1.0, 2.0]), "true", {})]))
        wh.load(Load(bill_run(), [Replace(COST_LINE, bill("111", [1.0, 2.0, 3.0]), "true", {})]))
        wh.load(Load(bill_run(), [Replace(COST_LINE, "SELECT * FROM cost_line", "false", {})]))
        assert seen == [1, 2, 2]  # two rows; three (a "row group" here); SQL rows
        assert wh.frame("SELECT current_setting('threads') AS t")["t"][0] == 2
        assert wh.frame("SELECT count(*) AS n FROM cost_line")["n"][0] == 6


def test_views_are_recreated_only_when_their_sql_changes(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse(path).close()
    created = "SELECT digest, created_at FROM view_set"
    with Warehouse(path) as wh:
        first = wh.frame(created)
    with Warehouse(path) as wh:  # the same SQL: not one catalog write
        assert wh.frame(created).equals(first)
    views = tmp_path / "sql" / "views"
    shutil.copytree(warehouse_module.SQL_DIR / "views", views)
    (views / "90_extra.sql").write_text("CREATE OR REPLACE VIEW extra_view AS SELECT 7 AS n")
    monkeypatch.setattr(warehouse_module, "SQL_DIR", tmp_path / "sql")
    with Warehouse(path) as wh:
        assert wh.frame("SELECT n FROM extra_view")["n"].to_list() == [7]
        [(digest, count)] = wh.frame("SELECT max(digest), count(*) FROM view_set").rows()
        assert count == 1 and digest != first["digest"][0]




def test_duckdb_draws_no_progress_bar_into_a_commands_output(warehouse: Warehouse) -> None:
    # DuckDB would draw it on stdout (file or pipe alike) for any query over 2 s
    progress = "SELECT current_setting('enable_progress_bar')"
    assert warehouse.con.execute(progress).fetchone() == (False,)
    warehouse.publish()
    reader = open_snapshot(warehouse.snapshot)
    assert reader.execute(progress).fetchone() == (False,)
    with pytest.raises(duckdb.Error):  # and its configuration is still locked
        reader.execute("SET enable_progress_bar = true")
    reader.close()
