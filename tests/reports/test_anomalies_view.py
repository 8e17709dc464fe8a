"""Recent anomalies for the pages (``finops.reports.anomalies_view.recent``): what the alert
checks recorded, with root causes, scoped by team, within the days asked for, newest first."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from finops.alerts import state
from finops.alerts.anomalies import CAUSE_KEYS, Anomaly, RootCause
from finops.reports.anomalies_view import recent
from finops.warehouse import SQL_DIR

NOW = datetime(2026, 10, 21, 6, 0)


def _cause(namespace: str | None, service: str | None, actual: float) -> RootCause:
    keys = dict.fromkeys(CAUSE_KEYS)
    keys.update({"team": "payments", "namespace": namespace, "service_name": service})
    return RootCause(keys, actual, 0.0)


def _record(con: duckdb.DuckDBPyConnection, anomaly: Anomaly) -> None:
    key = f"anomaly:{anomaly.dimension}:{anomaly.value}:{anomaly.day}"
    state.record_anomaly(con, key, anomaly.as_dict(), (None, None), NOW)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        connection.execute(path.read_text())
    spike = Anomaly("team", "payments", date(2026, 10, 18), 560.0, 100.0, 100.0, 9.0, 14, "USD",
                    [_cause("payments-api", None, 400.0), _cause(None, "Amazon RDS", 60.0)])
    _record(connection, spike)
    state.extend_anomaly(connection, "anomaly:team:payments:2026-10-18", date(2026, 10, 19),
                         460.0, NOW)
    _record(connection, Anomaly("unowned", "unowned", date(2026, 10, 5), 300.0, 20.0, 20.0,
                                6.0, 14, "USD"))
    return connection


def test_a_recorded_spike_is_listed_with_its_root_causes(con: duckdb.DuckDBPyConnection) -> None:
    found = recent(con, date(2026, 10, 20))
    assert [(a["scope"], a["day"], a["end_day"]) for a in found] == [
        ("team payments", "2026-10-18", "2026-10-19")]
    assert [c["contribution"] for c in found[0]["root_causes"]] == [400.0, 60.0]
    assert found[0]["root_causes"][0]["namespace"] == "payments-api"
    assert found[0]["impact"] == pytest.approx(460.0, abs=0.01)


def test_scoped_to_a_team(con: duckdb.DuckDBPyConnection) -> None:
    assert recent(con, date(2026, 10, 20), team="search") == []
    assert len(recent(con, date(2026, 10, 20), team="payments")) == 1


def test_only_the_days_asked_for(con: duckdb.DuckDBPyConnection) -> None:
    assert recent(con, date(2026, 10, 17), days=10) == []  # the 8th on: before the spike
    assert [a["scope"] for a in recent(con, date(2026, 10, 17), days=30)] == ["unowned spend"]
    assert recent(con, date(2026, 10, 31), days=11) == []  # the 21st on: both are over
    assert len(recent(con, date(2026, 10, 31), days=13)) == 1  # the 19th is in


def test_no_check_ran_yet() -> None:
    assert recent(duckdb.connect(), date(2026, 10, 20)) == []
