"""An incremental publish rebuilds exactly the days loaded since the last one, and every
rollup still holds the allocation to the cent: after a new day, after a bill restatement, and
after a retention run."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from finops import retention
from finops.pipeline import allocate
from finops.pipeline.incremental import owed
from finops.rollups import MONEY, PENDING, ROLLUPS, build_rollups
from finops.warehouse import Warehouse
from models.config import FinOpsConfig, parse_config
from models.schemas import K8S_HOURLY
from tests.support import run_cli
from tests.support.history import deliver, usage
from tests.support.snapshots import SNAPSHOT_MADE

ALLOCATION_ROLLUPS = [r for r in ROLLUPS if r.custom is None and r.view is None]


def day(n: int) -> date:
    return date(2024, 10, n)


def allocate_changed(wh: Warehouse, config: FinOpsConfig) -> list[date]:
    with wh.reader() as reader:
        days = owed(reader, config).days
    allocate.allocate_days(wh, config, days)
    return days


def sums(con: duckdb.DuckDBPyConnection, table: str, keys: tuple[str, ...],
         where: str = "") -> set[tuple[object, ...]]:
    money = ", ".join(f"round(sum({m}), 2)" for m in MONEY)
    rows = con.execute(f"SELECT day, {', '.join(keys)}, {money} FROM {table} "
                       f"{'WHERE ' + where if where else ''} GROUP BY ALL").fetchall()
    return {tuple(row) for row in rows}


def assert_rollups_hold_the_allocation(snapshot: Path) -> None:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        for rollup in ALLOCATION_ROLLUPS:
            expected = sums(con, "allocation", rollup.keys, rollup.where)
            assert expected and sums(con, rollup.name, rollup.keys) == expected, rollup.name
        for rollup in (r for r in ROLLUPS if r.view is not None):
            rows = set(con.execute(f"SELECT * FROM {rollup.view}").fetchall())
            assert set(con.execute(f"SELECT * FROM {rollup.name}").fetchall()) == rows
        assert con.execute(f"SELECT count(*) FROM {PENDING}").fetchone() == (0,)
    finally:
        con.close()


@pytest.fixture
def published(tmp_path: Path) -> Warehouse:
    """Three days loaded, allocated and published (the rollups built whole)."""
    wh = Warehouse(tmp_path / "wh.duckdb")
    usage(wh, day(1), 3)
    deliver(wh, {day(1): 30.0, day(2): 30.0, day(3): 30.0}, monthly=31.0)
    allocate_changed(wh, parse_config({}))
    assert_rollups_hold_the_allocation(wh.publish())
    return wh


def team_day(wh: Warehouse, n: int) -> float:
    row = wh.con.execute("SELECT sum(effective_cost) FROM rollup_team_daily WHERE day = $d",
                         {"d": day(n)}).fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def test_a_new_day_rebuilds_that_day_only(published: Warehouse) -> None:
    # A row only a full build would correct: the publish after one new day leaves it.
    published.con.execute("UPDATE rollup_team_daily SET effective_cost = 0 WHERE day = $d",
                          {"d": day(1)})
    usage(published, day(4))
    deliver(published, {day(d): 30.0 for d in range(1, 5)}, monthly=31.0)
    assert allocate_changed(published, parse_config({})) == [day(4)]
    published.publish()
    assert team_day(published, 1) == 0.0 and team_day(published, 4) > 0
    published.publish(full=True)
    assert team_day(published, 1) > 0
    assert_rollups_hold_the_allocation(published.snapshot)
    published.close()


def test_after_a_new_day_every_rollup_holds_the_allocation(published: Warehouse) -> None:
    usage(published, day(4))
    deliver(published, {day(d): 30.0 for d in range(1, 5)}, monthly=31.0)
    allocate_changed(published, parse_config({}))
    marked = {d for (d,) in published.con.execute(f"SELECT day FROM {PENDING}").fetchall()}
    assert day(4) in marked
    assert_rollups_hold_the_allocation(published.publish())
    published.close()


def test_after_a_restatement_every_rollup_holds_the_allocation(published: Warehouse) -> None:
    before = team_day(published, 2)
    deliver(published, {day(1): 30.0, day(2): 45.0, day(3): 30.0}, monthly=31.0)
    assert day(2) in allocate_changed(published, parse_config({}))
    assert_rollups_hold_the_allocation(published.publish())
    assert team_day(published, 2) == pytest.approx(before + 15.0)
    published.close()


def test_after_a_retention_run_every_rollup_holds_the_allocation(published: Warehouse) -> None:
    pools = "SELECT * FROM rollup_node_pool_daily WHERE day = $d ORDER BY ALL"
    kept = published.con.execute(pools, {"d": day(1)}).fetchall()
    with published.reader() as reader:
        cuts = [retention.counted(reader, retention.Cut(h.table, "hour < $kept", day(2)))
                for h in K8S_HOURLY]
    retention.apply(published, retention.Plan(day(3), cuts))
    assert published.con.execute("SELECT count(*) FROM k8s_node_hour WHERE hour < $d",
                                 {"d": day(2)}).fetchone() == (0,)
    assert_rollups_hold_the_allocation(published.publish())
    assert kept and published.con.execute(pools, {"d": day(1)}).fetchall() == kept
    published.close()


def test_a_warehouse_without_build_records_is_built_whole(published: Warehouse) -> None:
    # As an upgraded warehouse is: rollups from before the records, loads not recorded.
    published.con.execute("DELETE FROM built_rollup")
    published.con.execute("UPDATE rollup_team_daily SET effective_cost = 0")
    assert build_rollups(published.con)["rollup_team_daily"] > 0
    assert team_day(published, 1) > 0
    published.close()


def test_finops_publish_full_builds_every_rollup_whole(published: Warehouse,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    published.con.execute("UPDATE rollup_team_daily SET effective_cost = 0")
    path = published.path
    published.close()
    assert run_cli(["--db", str(path), "publish"], capsys)[0] == 0
    with Warehouse(path) as wh:
        assert team_day(wh, 1) == 0.0  # nothing was loaded: nothing rebuilt
    code, _, err = run_cli(["--db", str(path), "publish", "--full"], capsys)
    assert code == 0 and re.search(rf"^published \S+ \(snapshot: ({SNAPSHOT_MADE})\)$", err,
                                   re.MULTILINE), err
    with Warehouse(path) as wh:
        assert team_day(wh, 1) > 0
    assert_rollups_hold_the_allocation(path.with_name(f"{path.stem}.published.duckdb"))
