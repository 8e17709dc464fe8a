"""Right-sizing (``finops.reports.savings``) on a hand-built DuckDB: two workloads, 100 hours,
expected money computed here from the spec (requests, usage, the cluster's CPU/RAM money)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import polars as pl
import pytest

from finops.reports.savings import HEADROOM, HOURS_PER_MONTH, rightsizing, summary
from models.schemas import ALLOCATION, K8S_POD_HOUR, conform

GIB = 2.0**30
HOURS = 100
START = datetime(2026, 10, 1)
CPU_MONEY, RAM_MONEY = 50.0, 20.0
API_USAGE = [0.5 + 0.01 * h for h in range(HOURS)]  # cores, the two pods together


def pod(hour: int, name: str, workload: str, cpu_req: float, cpu_use: float,
        mem_req: float, mem_use: float) -> dict[str, Any]:
    return {"cluster": "eks", "namespace": "shop", "pod": name, "pod_uid": name,
            "hour": START + timedelta(hours=hour), "node": "n1", "workload_kind": "Deployment",
            "workload_name": workload, "running_seconds": 3600.0, "cpu_request": cpu_req,
            "cpu_usage": cpu_use, "memory_request": mem_req * GIB,
            "memory_usage": mem_use * GIB}


def pods() -> pl.DataFrame:
    rows = []
    for h in range(HOURS):
        rows += [pod(h, f"api-{i}", "api", 1.0, API_USAGE[h] / 2, 2.0, 1.0) for i in (1, 2)]
        rows.append(pod(h, "hot-1", "hot", 0.5, 0.8, 1.0, 1.0))  # uses more than it asks
    return conform(pl.DataFrame(rows), K8S_POD_HOUR)


def allocation() -> pl.DataFrame:
    rows = [{"day": date(2026, 10, 1), "cluster": "eks", "namespace": "shop", "team": team,
             "workload_kind": "Deployment", "workload_name": name, "cost_kind": kind,
             "effective_cost": cost, "billed_cost": cost, "list_cost": cost, "currency": "EUR"}
            for team, name, kind, cost in (("payments", "api", "cpu", 30.0),
                                           ("search", "hot", "cpu", CPU_MONEY - 30.0),
                                           ("payments", "api", "ram", 15.0),
                                           ("search", "hot", "ram", RAM_MONEY - 15.0))]
    return conform(pl.DataFrame(rows), ALLOCATION)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    for name, frame in (("k8s_pod_hour", pods()), ("allocation", allocation())):
        connection.register("frame", frame)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        connection.unregister("frame")
    return connection


def run(con: duckdb.DuckDBPyConnection, **options: Any) -> pl.DataFrame:
    return rightsizing(lambda sql, params: con.sql(sql, params=params).pl(),
                       date(2026, 10, 1), date(2026, 10, 5), **options)


def test_saving_is_the_request_given_back_at_the_clusters_price(
        con: duckdb.DuckDBPyConnection) -> None:
    found = run(con)
    assert found["workload_name"].to_list() == ["api"]  # "hot" needs more, not less
    row = found.row(0, named=True)
    p95 = float(pl.Series(API_USAGE).quantile(0.95, interpolation="linear"))
    core_price = CPU_MONEY / (2 * HOURS + 0.8 * HOURS)  # max(request, usage) per pod-hour
    gib_price = RAM_MONEY / (4 * HOURS + 1 * HOURS)
    cpu = (2.0 - p95 * (1 + HEADROOM)) * core_price * HOURS_PER_MONTH
    memory = (4.0 - 2.0 * (1 + HEADROOM)) * gib_price * HOURS_PER_MONTH
    assert row["team"] == "payments" and row["currency"] == "EUR" and row["hours"] == HOURS
    assert row["cpu_request"] == 2.0 and row["cpu_p95"] == pytest.approx(p95, abs=1e-3)
    assert row["cpu_saving"] == pytest.approx(cpu, abs=0.006)
    assert row["memory_saving"] == pytest.approx(memory, abs=0.006)
    assert row["monthly_saving"] == pytest.approx(cpu + memory, abs=0.011)
    assert summary(found)["workload_count"] == 1


def test_team_scope_is_in_sql(con: duckdb.DuckDBPyConnection) -> None:
    assert run(con, team="search").height == 0
    assert run(con, team="payments")["workload_name"].to_list() == ["api"]


def test_more_headroom_saves_less(con: duckdb.DuckDBPyConnection) -> None:
    assert float(run(con, headroom=0.5)["monthly_saving"][0]) < float(
        run(con)["monthly_saving"][0])


def test_a_window_without_usage_suggests_nothing(con: duckdb.DuckDBPyConnection) -> None:
    empty = rightsizing(lambda sql, params: con.sql(sql, params=params).pl(),
                        date(2026, 11, 1), date(2026, 11, 30))
    assert empty.height == 0 and summary(empty)["monthly_saving"] == 0.0
