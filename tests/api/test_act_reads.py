"""The reads behind the unowned items and right-sizing on the demo's snapshot: the items add up
to the unowned spend; a team lead's items are its own places only; the demo's planted hints
are found; right-sizing from the rollups equals the same SQL on the raw allocation (the CLI's)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from finops.api import efficiency, queries, unowned_items
from finops.api.reader import SnapshotReader
from finops.demo import DEMO_CONFIG
from finops.reports import savings
from models.api import Window
from models.config import FinOpsConfig, load_config
from tests.support.readers import open_reader

MONTH = Window(start=date(2026, 10, 1), end=date(2026, 10, 31))


@pytest.fixture(scope="module")
def reader(demo_db: Path) -> Iterator[SnapshotReader]:
    yield from open_reader(demo_db)


@pytest.fixture(scope="module")
def config() -> FinOpsConfig:
    return load_config(DEMO_CONFIG)


def test_items_add_up_to_the_unowned_spend(reader: SnapshotReader,
                                           config: FinOpsConfig) -> None:
    rows = unowned_items.actionable(reader, config, MONTH, None)
    unowned = float(queries.unowned_by_reason(reader, MONTH)["effective_cost"].sum())
    assert sum(r["effective_cost"] for r in rows) == pytest.approx(unowned, abs=0.01 * len(rows))
    assert all(r["fix"] and r["first_seen"] <= "2026-10-31" for r in rows)
    planted = {r["namespace"]: r for r in rows if r["reason"] == "no-team-label" and
               r["namespace"] in ("search-experiments", "sandbox-alice") and not r["resource_id"]}
    assert planted["search-experiments"]["suggested_owner"] == "search"
    assert planted["sandbox-alice"]["suggested_owner"] == "payments"  # alice, Backstage


def test_a_team_lead_sees_its_own_places_only(reader: SnapshotReader,
                                              config: FinOpsConfig) -> None:
    everything = unowned_items.actionable(reader, config, MONTH, None)
    for team in ("search", "payments", "data"):
        places = unowned_items.team_places(reader, config, MONTH, team)
        mine = unowned_items.actionable(reader, config, MONTH, team)
        assert all((r["cluster"], r["namespace"]) in places.namespaces if r["namespace"]
                   else r["sub_account_id"] in places.accounts for r in mine)
        keys = {(r["reason"], r["resource_id"], r["namespace"], r["sub_account_id"])
                for r in mine}
        assert keys <= {(r["reason"], r["resource_id"], r["namespace"], r["sub_account_id"])
                        for r in everything}
    search = unowned_items.actionable(reader, config, MONTH, "search")
    assert {r["namespace"] for r in search if r["namespace"]} == {"search-experiments"}


def test_select_sorts_filters_and_pages(reader: SnapshotReader, config: FinOpsConfig) -> None:
    rows = unowned_items.actionable(reader, config, MONTH, None)
    first = unowned_items.select(rows, sort="cost", descending=False, per_page=10)
    costs = [r["effective_cost"] for r in first.rows]
    assert costs == sorted(costs) and first.pages == -(-len(rows) // 10)
    idle = unowned_items.select(rows, reason="idle-capacity", per_page=500)
    assert idle.matching == sum(r["reason"] == "idle-capacity" for r in rows)
    found = unowned_items.select(rows, text="SEARCH-EXPERIMENTS", per_page=500)
    assert found.matching and all(r["namespace"] == "search-experiments" for r in found.rows)
    last = unowned_items.select(rows, per_page=10, page=first.pages)
    assert len(last.rows) == len(rows) - 10 * (first.pages - 1)


def test_rightsizing_from_rollups_equals_the_raw_allocation(reader: SnapshotReader,
                                                            demo_db: Path) -> None:
    served = efficiency.rightsizing(reader, MONTH, None)
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        raw = savings.rightsizing(lambda sql, params: con.sql(sql, params=params).pl(),
                                  MONTH.start, MONTH.end)
    finally:
        con.close()
    assert served.height > 10 and served.equals(raw)
    team = efficiency.rightsizing(reader, MONTH, "payments")
    assert set(team["team"].to_list()) == {"payments"}
    assert team.height == served.filter(served["team"] == "payments").height


def test_node_pools_hold_the_idle_money(reader: SnapshotReader) -> None:
    pools = efficiency.node_pools(reader, MONTH)
    totals = efficiency.pool_totals(pools)
    assert totals["idle_effective_cost"].sum() == pytest.approx(
        pools["idle_effective_cost"].sum())
    assert (totals["cpu_used_core_hours"] <= totals["cpu_capacity_core_hours"]).all()
