"""A SQL load (DuckDB scans the source itself: CUR months load this way) replaces the
partitions its rows hold, in one transaction."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from finops.warehouse import Warehouse
from models.errors import WarehouseError
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import COST_LINE

KEYS = ("x_source", "billing_account_id", "billing_period_start")


def source(tmp_path: Path, name: str, rows: list[tuple[str, str, float]]) -> str:
    """A Parquet file of (account, period start, cost) rows, as a DuckDB relation."""
    path = tmp_path / f"{name}.parquet"
    values = ", ".join(f"('{a}', TIMESTAMP '{p}', {c})" for a, p, c in rows)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM (VALUES {values}) t(acct, period, cost)) "
                f"TO '{path}' (FORMAT parquet)")
    con.close()
    return f"read_parquet('{path}')"


def load(wh: Warehouse, relation: str, cost: str = "cost") -> IngestRun:
    run = IngestRun(new_run_id("aws-cur"), "aws-cur", None, None, [relation])
    select = (f"SELECT 'aws-cur' AS x_source, acct AS billing_account_id, "
              f"period AS billing_period_start, period AS charge_period_start, "
              f"period AS charge_period_end, {cost} AS effective_cost, "
              f"'{run.run_id}' AS x_ingest_run FROM {relation}")
    return wh.load(Load(run, [Replace(COST_LINE, select, keys=KEYS)]))


def totals(wh: Warehouse) -> dict[tuple[str, str], float]:
    rows = wh.frame("SELECT billing_account_id, strftime(billing_period_start, '%Y-%m'), "
                    "sum(effective_cost) FROM cost_line GROUP BY ALL").rows()
    return {(a, p): round(c, 2) for a, p, c in rows}


def test_replaces_only_the_partitions_named(tmp_path: Path, warehouse: Warehouse) -> None:
    first = source(tmp_path, "a", [("111", "2026-09-01", 1.25), ("111", "2026-10-01", 2.5),
                                   ("222", "2026-10-01", 4.0)])
    run = load(warehouse, first)
    assert run.status == "ok" and run.rows == 3
    load(warehouse, source(tmp_path, "b", [("111", "2026-10-01", 7.0), ("111", "2026-10-01", 1.0)]))
    assert totals(warehouse) == {("111", "2026-09"): 1.25, ("111", "2026-10"): 8.0,
                                 ("222", "2026-10"): 4.0}
    runs = warehouse.frame("SELECT status, rows FROM ingest_runs").rows()
    assert sorted(runs) == [("ok", 2), ("ok", 3)]


def test_failure_mid_insert_keeps_the_previous_rows(tmp_path: Path,
                                                    warehouse: Warehouse) -> None:
    load(warehouse, source(tmp_path, "a", [("111", "2026-10-01", 2.5)]))
    bad = source(tmp_path, "b", [("111", "2026-10-01", 1.0), ("111", "2026-10-01", -1.0)])
    with pytest.raises(WarehouseError, match="nothing changed"):
        load(warehouse, bad, cost="CASE WHEN cost < 0 THEN error('bad row') ELSE cost END")
    assert totals(warehouse) == {("111", "2026-10"): 2.5}
    status = warehouse.frame("SELECT list(status ORDER BY status) AS s FROM ingest_runs").rows()
    assert status == [(["failed", "ok"],)]
