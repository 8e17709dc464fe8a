"""Every rollup holds the allocation's money exactly (per day and per grouping key, to the
cent), sorted for its reads, in the published snapshot; days whose raw usage is gone keep
their rows."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from finops.rollups import BY_NAME, MONEY, ROLLUPS, Rollup, build_rollups
from finops.warehouse import Warehouse
from models.errors import WarehouseError

ALLOCATION_ROLLUPS = [r for r in ROLLUPS if r.custom is None and r.view is None]
VIEW_ROLLUPS = [r for r in ROLLUPS if r.view is not None]


@pytest.fixture(scope="module")
def snapshot(demo_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The demo's published snapshot (``finops demo`` published it), read-only."""
    con = duckdb.connect(str(demo_db), read_only=True)
    yield con
    con.close()


def cents(con: duckdb.DuckDBPyConnection, sql: str) -> set[tuple[object, ...]]:
    return {tuple(row) for row in con.execute(sql).fetchall()}


def by_key(table: str, keys: tuple[str, ...], where: str = "") -> str:
    columns = ", ".join(("day", *keys))
    sums = ", ".join(f"round(sum({m}), 2)" for m in MONEY)
    return f"SELECT {columns}, {sums} FROM {table} {where} GROUP BY ALL"


@pytest.mark.parametrize("rollup", ALLOCATION_ROLLUPS, ids=lambda r: r.name)
def test_every_rollup_holds_the_allocation_per_day_and_key(
        snapshot: duckdb.DuckDBPyConnection, rollup: Rollup) -> None:
    where = f"WHERE {rollup.where}" if rollup.where else ""
    expected = cents(snapshot, by_key("allocation", rollup.keys, where))
    assert expected and cents(snapshot, by_key(rollup.name, rollup.keys)) == expected
    total = "SELECT round(sum(effective_cost), 2) FROM "
    assert snapshot.execute(total + rollup.name).fetchone() == \
        snapshot.execute(total + f"allocation {where}").fetchone()


@pytest.mark.parametrize("rollup", VIEW_ROLLUPS, ids=lambda r: r.name)
def test_a_kept_view_has_the_view_s_rows(snapshot: duckdb.DuckDBPyConnection,
                                         rollup: Rollup) -> None:
    rows = cents(snapshot, f"SELECT * FROM {rollup.view}")
    assert rows and cents(snapshot, f"SELECT * FROM {rollup.name}") == rows


def test_a_rollup_is_smaller_than_the_allocation(snapshot: duckdb.DuckDBPyConnection) -> None:
    rows = snapshot.execute("SELECT count(*) FROM allocation").fetchone()[0]  # type: ignore[index]
    for rollup in ALLOCATION_ROLLUPS:
        assert snapshot.execute(f"SELECT count(*) FROM {rollup.name}").fetchone()[0] < rows  # type: ignore[index]


def test_node_pools_hold_capacity_requests_usage_and_idle(
        snapshot: duckdb.DuckDBPyConnection) -> None:
    pools = cents(snapshot, "SELECT day, cluster, round(sum(idle_effective_cost), 2), "
                            "round(sum(cpu_capacity_core_hours), 2), "
                            "round(sum(cpu_requested_core_hours), 2), "
                            "round(sum(memory_used_gib_hours), 2) "
                            "FROM rollup_node_pool_daily GROUP BY ALL")
    raw = cents(snapshot, """
        WITH idle AS (SELECT day, cluster, sum(effective_cost) AS cost FROM allocation
                      WHERE cost_kind = 'idle' GROUP BY ALL),
             cap AS (SELECT hour::DATE AS day, cluster,
                            sum(capacity_cpu * running_seconds) / 3600 AS cpu
                     FROM k8s_node_hour GROUP BY ALL),
             pods AS (SELECT hour::DATE AS day, cluster,
                             sum(cpu_request * running_seconds) / 3600 AS req,
                             sum(memory_usage * running_seconds) / 3600 / 2^30 AS mem
                      FROM k8s_pod_hour GROUP BY ALL)
        SELECT day, cluster, round(coalesce(idle.cost, 0), 2), round(cap.cpu, 2),
               round(pods.req, 2), round(pods.mem, 2)
        FROM cap LEFT JOIN idle USING (day, cluster) LEFT JOIN pods USING (day, cluster)""")
    assert pools and pools == raw
    names = {row[0] for row in snapshot.execute(
        "SELECT DISTINCT node_pool FROM rollup_node_pool_daily").fetchall()}
    assert names == {"main", "batch", "default-pool", "burst"}  # EKS nodegroups, GKE pools


@pytest.mark.parametrize("rollup", ROLLUPS, ids=lambda r: r.name)
def test_rows_are_stored_in_the_order_their_reads_filter_on(
        snapshot: duckdb.DuckDBPyConnection, rollup: Rollup) -> None:
    order = ", ".join(rollup.order)
    stored = snapshot.execute(f"SELECT {order} FROM {rollup.name} ORDER BY rowid").fetchall()
    assert stored == snapshot.execute(f"SELECT {order} FROM {rollup.name} "
                                      f"ORDER BY {order}").fetchall()


@pytest.fixture
def writer(demo_db: Path, tmp_path: Path) -> Iterator[Warehouse]:
    """A copy of the demo's writer warehouse."""
    db = tmp_path / "finops.duckdb"
    shutil.copyfile(demo_db.with_name("finops.duckdb"), db)
    with Warehouse(db) as warehouse:
        yield warehouse


def test_days_whose_raw_usage_is_gone_keep_their_node_pool_rows(writer: Warehouse) -> None:
    pools = "SELECT * FROM rollup_node_pool_daily WHERE day = DATE '2026-10-01' ORDER BY ALL"
    before = writer.con.execute(pools).fetchall()
    for table in ("k8s_node_hour", "k8s_pod_hour"):  # what a retention policy would drop
        writer.con.execute(f"DELETE FROM {table} WHERE hour < TIMESTAMP '2026-10-02'")
    snapshot = writer.publish()
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert before and con.execute(pools).fetchall() == before
        days = con.execute("SELECT count(DISTINCT day) FROM rollup_node_pool_daily").fetchone()
        assert days == (31,)
    finally:
        con.close()


def test_a_changed_definition_is_rebuilt_from_its_source(writer: Warehouse) -> None:
    writer.con.execute("ALTER TABLE rollup_team_daily ADD COLUMN stale INTEGER")
    writer.con.execute("INSERT INTO rollup_team_daily (day, team, effective_cost) "
                       "VALUES (DATE '1999-01-01', 'ghost', 1e6)")
    build_rollups(writer.con)
    columns = [c[0] for c in writer.con.execute("DESCRIBE rollup_team_daily").fetchall()]
    assert "stale" not in columns
    assert writer.con.execute("SELECT count(*) FROM rollup_team_daily "
                              "WHERE team = 'ghost'").fetchone() == (0,)


def test_the_currency_is_a_key_of_every_allocation_rollup(writer: Warehouse) -> None:
    # Two currencies in one allocation (a warehouse not yet allocated again after a change of
    # reporting currency): no rollup adds one to the other.
    writer.con.execute("UPDATE allocation SET currency = 'EUR' WHERE provider = 'AWS'")
    assert writer.con.execute("SELECT count(DISTINCT currency) FROM allocation").fetchone() == (2,)
    build_rollups(writer.con, full=True)  # a change by SQL, not by a load: nothing pending
    for rollup in ALLOCATION_ROLLUPS:
        where = f"WHERE {rollup.where}" if rollup.where else ""
        keys = (*rollup.keys, "currency")
        assert cents(writer.con, by_key(rollup.name, keys)) == \
            cents(writer.con, by_key("allocation", keys, where)), rollup.name


def test_the_declared_rollups_are_distinct_and_documented() -> None:
    assert len(BY_NAME) == len(ROLLUPS)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for rollup in ROLLUPS:
        assert f"`{rollup.name}" in readme, f"{rollup.name} is not in the README's contract"


def test_a_failed_build_changes_nothing_and_says_so(writer: Warehouse) -> None:
    before = writer.con.execute("SELECT count(*) FROM rollup_team_daily").fetchone()
    writer.con.execute("ALTER TABLE allocation RENAME COLUMN cost_kind TO kind")
    with pytest.raises(WarehouseError, match="serving rollups failed, nothing was published"):
        writer.publish()
    assert writer.con.execute("SELECT count(*) FROM rollup_team_daily").fetchone() == before
