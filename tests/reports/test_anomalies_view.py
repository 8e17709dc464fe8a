"""Recent anomalies for the pages (``finops.reports.anomalies_view.recent``): the injected
spike of the budget tests' data is found, scoped by team, newest first."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from finops.reports.anomalies_view import recent
from tests.support.budget_data import allocation_rows

SPIKE_DAY = date(2026, 10, 18)
SPIKE = {("payments-api", None, "cpu"): 400.0, (None, "Amazon RDS", "cloud"): 60.0}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.register("frame", allocation_rows(spike=SPIKE, spike_day=SPIKE_DAY))
    connection.execute("CREATE TABLE allocation AS SELECT * FROM frame")
    return connection


def test_spike_is_listed_with_its_root_causes(con: duckdb.DuckDBPyConnection) -> None:
    found = recent(con, date(2026, 10, 20))
    assert [(a["team"], a["day"]) for a in found] == [("payments", "2026-10-18")]
    causes = found[0]["root_causes"]
    assert [c["contribution"] for c in causes] == [400.0, 60.0]
    assert causes[0]["namespace"] == "payments-api"
    assert found[0]["impact"] == pytest.approx(460.0, abs=0.01)


def test_scoped_to_a_team(con: duckdb.DuckDBPyConnection) -> None:
    assert recent(con, date(2026, 10, 20), team="search") == []
    assert len(recent(con, date(2026, 10, 20), team="payments")) == 1


def test_only_the_days_asked_for(con: duckdb.DuckDBPyConnection) -> None:
    assert recent(con, date(2026, 10, 17)) == []  # before the spike
    assert recent(con, date(2026, 10, 20), days=2) == []  # 19th and 20th only
