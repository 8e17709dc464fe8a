"""The API reads a rollup whenever a request's grain allows, the allocation otherwise, and
either way answers the same numbers (to the cent): every named query is run on the demo's
snapshot and on a copy of it without rollups (a snapshot published before they existed)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from finops.alerts.reads import budget_status
from finops.alerts.spend import spend_columns
from finops.api import queries
from finops.api.reader import SnapshotReader
from finops.demo import DEMO_CONFIG
from finops.reports.explain import explain_team
from finops.rollups import ROLLUPS
from models.api import Window
from models.config import load_config
from tests.support.readers import open_reader

MONTH = Window(start=date(2026, 10, 1), end=date(2026, 10, 31))
WEEK = Window(start=date(2026, 10, 12), end=date(2026, 10, 18))


@pytest.fixture(scope="module")
def bare_snapshot(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo's snapshot without any rollup."""
    path = tmp_path_factory.mktemp("bare") / "finops.published.duckdb"
    shutil.copyfile(demo_db, path)
    con = duckdb.connect(str(path))
    for rollup in ROLLUPS:
        con.execute(f"DROP TABLE {rollup.name}")
    con.close()
    return path


@pytest.fixture(scope="module")
def rolled(demo_db: Path) -> Iterator[SnapshotReader]:
    yield from open_reader(demo_db)


@pytest.fixture(scope="module")
def bare(bare_snapshot: Path) -> Iterator[SnapshotReader]:
    yield from open_reader(bare_snapshot)


@pytest.mark.parametrize(("needed", "table"), [
    (set(), "rollup_team_daily"),
    ({"team", "cost_kind", "unowned_reason"}, "rollup_team_daily"),
    ({"team", "namespace"}, "rollup_namespace_daily"),
    ({"team", "cluster", "namespace", "service_name", "cost_kind"}, "rollup_namespace_daily"),
    ({"billing_account_id", "service_name"}, "rollup_service_daily"),
    ({"team", "workload_name"}, "rollup_workload_daily"),
    # no general rollup has both (the unowned rollup has, but holds unowned rows only)
    ({"billing_account_id", "namespace"}, "allocation"),
    ({"node"}, "allocation"),
    ({"owner_rule"}, "allocation"),
])
def test_the_chooser_takes_the_smallest_rollup_with_every_column(
        rolled: SnapshotReader, needed: set[str], table: str) -> None:
    assert rolled.source(needed) == table


def test_without_rollups_every_read_is_the_allocation(bare: SnapshotReader) -> None:
    assert bare.source(set()) == "allocation" and bare.source({"team"}) == "allocation"


def same(left: pl.DataFrame, right: pl.DataFrame) -> bool:
    """Equal to the cent, whatever the order of rows that tie."""
    def norm(frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.with_columns(pl.col(pl.Float64).round(2))
        return frame.sort(frame.columns, nulls_last=True)
    return left.height > 0 and norm(left).equals(norm(right))


AGGREGATES = [["team"], ["namespace"], ["team", "namespace"], ["cluster", "cost_kind"],
              ["service", "sub_account"], ["billing_account", "provider"], ["reason"],
              ["workload", "namespace"], ["team", "billing_account", "namespace"]]
Query = Callable[[SnapshotReader], pl.DataFrame]
QUERIES: dict[str, Query] = {
    **{f"allocation {'+'.join(a)} by {step}": (
        lambda r, a=a, step=step: queries.allocation(r, MONTH, a, step, None, {}))
       for a in AGGREGATES for step in ("day", "window")},
    "allocation payments by namespace, weekly": lambda r: queries.allocation(
        r, MONTH, ["namespace"], "week", "payments", {}),
    "allocation filtered": lambda r: queries.allocation(
        r, WEEK, ["team"], "day", None, {"cluster": ["prod-eks"], "cost_kind": ["cpu", "ram"]}),
    "allocation of unowned by reason": lambda r: queries.allocation(
        r, MONTH, ["reason"], "window", None, {"team": [queries.UNOWNED]}),
    "team totals": lambda r: queries.team_totals(r, MONTH, None),
    "team totals, scoped": lambda r: queries.team_totals(r, WEEK, "search"),
    "spend by team daily": lambda r: queries.spend_by_team_daily(r, MONTH, None),
    "cost kind by day": lambda r: queries.grouped(r, MONTH, "payments", "cost_kind", True),
    "top namespaces": lambda r: queries.grouped(r, MONTH, "payments", "namespace", limit=15),
    "top services": lambda r: queries.grouped(r, MONTH, "search", "service", limit=15),
    "team daily": lambda r: queries.team_daily(r, WEEK, "payments"),
    "unowned by reason": lambda r: queries.unowned_by_reason(r, MONTH),
    "unowned by reason per day": lambda r: queries.unowned_daily_by_reason(r, WEEK),
    "unowned items": lambda r: queries.unowned_items(r, MONTH, 25),
    "allocated share": lambda r: queries.allocated_share_daily(r, MONTH),
    "top movers": lambda r: queries.team_movers(r, MONTH),
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_query_answers_the_same_from_rollups_and_allocation(
        rolled: SnapshotReader, bare: SnapshotReader, name: str) -> None:
    assert same(QUERIES[name](rolled), QUERIES[name](bare))


def test_totals_and_facts_are_the_same(rolled: SnapshotReader, bare: SnapshotReader) -> None:
    for team in (None, "payments"):
        assert round(queries.total(rolled, MONTH, team), 2) == \
            round(queries.total(bare, MONTH, team), 2) > 0
    assert rolled.data_range() == bare.data_range() == (MONTH.start, MONTH.end)
    assert queries.has_spend(rolled, "payments") and not queries.has_spend(rolled, "nobody")


@pytest.mark.parametrize("team", ["payments", "search"])
def test_explain_from_summed_rows_is_explain_from_every_row(rolled: SnapshotReader,
                                                           team: str) -> None:
    every = rolled.frame("SELECT * FROM allocation WHERE team = $t AND day BETWEEN $s AND $e",
                         {"t": team, "s": MONTH.start, "e": MONTH.end})
    summed = queries.explain_rows(rolled, MONTH, team)
    assert summed.height <= every.height
    assert explain_team(summed, team) == explain_team(every, team)


@pytest.mark.parametrize("view", ["label_coverage", "quota_coverage"])
def test_kept_views_answer_as_the_views(rolled: SnapshotReader, bare: SnapshotReader,
                                        view: str) -> None:
    kept = queries.view_rows(rolled, view, MONTH)
    assert kept and kept == queries.view_rows(bare, view, MONTH)


def test_budgets_read_from_a_rollup_are_the_budgets(rolled: SnapshotReader,
                                                   bare: SnapshotReader) -> None:
    config = load_config(DEMO_CONFIG)
    source = rolled.source(spend_columns(config))
    assert source == "rollup_namespace_daily"

    def statuses(reader: SnapshotReader, table: str) -> list[dict[str, object]]:
        cursor = reader.cursor()
        try:
            return cents_of(budget_status(cursor, config, MONTH.end, table))
        finally:
            cursor.close()

    assert statuses(rolled, source) == statuses(bare, "allocation") != []


def cents_of(value: Any) -> Any:
    """``value`` with every float rounded to the cent (sums in another order differ in the
    last bits)."""
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: cents_of(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cents_of(v) for v in value]
    return value
