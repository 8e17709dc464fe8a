"""``cost_line_compact``: every load that changes the bill leaves it equal to a fresh grouping
of ``cost_line_daily`` (CLI deliveries, restatements, appends, retention, the migration, and
random sequences of loads); the engine reads it and still reconciles to 0.00."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finops.allocation.inputs import BILL_KEYS
from finops.allocation.inputs import MONEY as ENGINE_MONEY
from finops.bill_compact import MONEY, TABLE, compact_sql
from finops.retention import Cut, retire
from finops.warehouse import Warehouse
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import COST_LINE, COST_LINE_COMPACT
from tests.support import run_cli
from tests.support.bills import focus_lines, write_focus
from tests.support.loads import PERIOD_KEYS
from tests.support.rows import bill_row

EVERY_DAY = {"first": date(1, 1, 1), "last": date(9999, 12, 31)}


def _rounded(relation: str) -> str:
    money = ", ".join(f"round({m}, 6) AS {m}" for m in MONEY)
    return f"SELECT * EXCLUDE ({', '.join(MONEY)}), {money} FROM ({relation})"


def mismatches(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Rows of the table a fresh grouping lacks, and the other way round (money to 1e-6)."""
    kept, fresh = _rounded(f"SELECT * FROM {TABLE}"), _rounded(compact_sql("true"))
    counts = [con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})", EVERY_DAY).fetchone()
              for a, b in ((kept, fresh), (fresh, kept))]
    return tuple(int(c[0]) if c else -1 for c in counts)  # type: ignore[return-value]


def compact_rows(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
    return int(row[0]) if row else 0


def test_the_table_holds_exactly_what_the_engine_reads_of_a_bill() -> None:
    assert COST_LINE_COMPACT.columns == [*BILL_KEYS, *ENGINE_MONEY]


def test_the_demo_bill_is_compacted_as_a_fresh_grouping(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    lines = con.execute("SELECT count(*) FROM cost_line_daily").fetchone()
    assert lines is not None and 0 < compact_rows(con) < lines[0]
    assert mismatches(con) == (0, 0)
    con.close()


def _ingest(db: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run_cli(["--db", str(db), *args], capsys)
    assert code == 0, out + err
    return out


def _reconciled(db: Path) -> tuple[int, float]:
    with Warehouse(db) as wh:
        rows, diff = wh.con.execute("SELECT count(*), sum(abs(difference)) "
                                    "FROM reconciliation").fetchone() or (0, None)
        assert mismatches(wh.con) == (0, 0)
    return int(rows), float(diff)


@pytest.mark.slow  # two ingests and two allocations through the CLI (~6 s)
def test_a_restated_period_rebuilds_its_days_and_reconciles(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, config = tmp_path / "wh.duckdb", tmp_path / "finops.yaml"
    config.touch()
    first = write_focus(tmp_path / "v1" / "bill.csv", focus_lines(90, 123_456, tag="a"))
    _ingest(db, capsys, "ingest", "focus", str(first))
    window = ("--start", "2026-09-01", "--end", "2026-09-30")
    _ingest(db, capsys, "--config", str(config), "allocate", *window)
    assert _reconciled(db)[1] == 0.0
    # The same period again with changed and fewer lines: every day of it rebuilt.
    restated = write_focus(tmp_path / "v2" / "bill.csv", focus_lines(60, 98_765, tag="b"))
    _ingest(db, capsys, "ingest", "focus", str(restated), "--replace")
    with Warehouse(db) as wh:
        assert mismatches(wh.con) == (0, 0)
        total = wh.con.execute(f"SELECT round(sum(effective_cost), 2) FROM {TABLE}").fetchone()
        assert total == (987.65,)
    _ingest(db, capsys, "--config", str(config), "allocate", *window)
    rows, diff = _reconciled(db)
    assert rows == 28 and diff == 0.0  # focus_lines spreads the lines over days 1-28


def test_an_appended_part_adds_its_days(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "wh.duckdb"
    one = write_focus(tmp_path / "p1.csv", focus_lines(5, 500, tag="a"))  # days 1-5
    two = write_focus(tmp_path / "p2.csv", focus_lines(20, 2_000, tag="b"))  # days 1-20
    _ingest(db, capsys, "ingest", "focus", str(one))
    _ingest(db, capsys, "ingest", "focus", str(two), "--append")
    with Warehouse(db) as wh:
        assert mismatches(wh.con) == (0, 0)
        days = wh.con.execute(f"SELECT count(DISTINCT day) FROM {TABLE}").fetchone()
        assert days == (20,)


def _load(wh: Warehouse, lines: list[dict], account: str = "acct-1") -> None:
    rows = pl.DataFrame(lines).drop("day").with_columns(
        billing_account_id=pl.lit(account), sub_account_id=pl.lit(account),
        billing_period_start=pl.lit(datetime(2026, 10, 1)), x_source=pl.lit("aws-cur"))
    wh.load(Load(IngestRun(new_run_id("aws-cur"), "aws-cur", None, None, []),
                 [Replace(COST_LINE, rows, keys=PERIOD_KEYS)]))


def test_retention_removes_the_days_of_the_lines_it_deletes(warehouse: Warehouse) -> None:
    _load(warehouse, [bill_row("i-1", 1.0, day=date(2026, 10, d)) for d in range(1, 11)])
    kept = date(2026, 10, 6)
    cut = Cut(COST_LINE, "charge_period_end <= $kept", kept, rows=5)
    warehouse.load(retire([cut], [cut]))
    assert mismatches(warehouse.con) == (0, 0)
    first = warehouse.con.execute(f"SELECT min(day), count(*) FROM {TABLE}").fetchone()
    assert first == (kept, 5)


def test_the_migration_builds_an_existing_bill(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    with Warehouse(db) as wh:
        month = datetime(2026, 10, 1)
        fee = bill_row(None, 31.0, service_name="Support", day=date(2026, 10, 1),
                       charge_period_end=datetime(2026, 11, 1))
        _load(wh, [fee, bill_row("i-1", 2.0, day=date(2026, 10, 3), x_namespace="web",
                                 charge_period_start=month + timedelta(days=2, hours=5))])
        # As a warehouse from before migration 0011 was: no table, the migration not applied.
        wh.con.execute(f"DROP TABLE {TABLE}; DELETE FROM schema_version WHERE version = 11")
    with Warehouse(db) as wh:
        assert mismatches(wh.con) == (0, 0)
        assert compact_rows(wh.con) == 32  # the fee on 31 days, the split line at its hour
        pending = wh.con.execute("SELECT count(*) FROM pending_rollup_day "
                                 "WHERE table_name = 'cost_line'").fetchone()
        assert pending == (0,)


# -- property: any sequence of bill loads leaves the table equal to a fresh grouping ------
_DAY0 = datetime(2026, 10, 1)
_line = st.fixed_dictionaries({
    "start": st.integers(0, 30 * 24 - 1), "hours": st.sampled_from([1, 1, 5, 24, 50, 744]),
    "resource": st.sampled_from(["i-1", "i-2", None]), "split": st.booleans(),
    "cost": st.integers(-500, 5_000), "open_end": st.booleans()})


def _line_row(spec: dict) -> dict:
    start = _DAY0 + timedelta(hours=spec["start"])
    end = None if spec["open_end"] and spec["hours"] == 1 else start + timedelta(
        hours=spec["hours"])
    return bill_row(spec["resource"], spec["cost"] / 100, day=start.date(),
                    charge_period_start=start, charge_period_end=end,
                    x_namespace="web" if spec["split"] else None)


_op = st.tuples(st.sampled_from(["replace", "append"]), st.sampled_from(["a", "b"]),
                st.lists(_line, max_size=6))


@pytest.mark.slow  # 25 random load sequences (~13 s)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, min_size=1, max_size=5))
def test_any_sequence_of_loads_keeps_the_compacted_bill(tmp_path_factory: pytest.TempPathFactory,
                                                       ops: list[tuple]) -> None:
    with Warehouse(tmp_path_factory.mktemp("p") / "wh.duckdb") as wh:
        for kind, account, specs in ops:
            rows = [_line_row(s) for s in specs]
            if kind == "replace":
                _load(wh, rows or [bill_row("i-1", 0.0, day=date(2026, 10, 1))], account)
            elif rows:
                frame = pl.DataFrame(rows).drop("day").with_columns(
                    billing_account_id=pl.lit(account), x_source=pl.lit("aws-cur"),
                    billing_period_start=pl.lit(datetime(2026, 10, 1)))
                wh.load(Load(IngestRun(new_run_id("append"), "aws-cur", None, None, []),
                             [Replace(COST_LINE, frame)]))  # where 'false': adds only
            assert mismatches(wh.con) == (0, 0)
