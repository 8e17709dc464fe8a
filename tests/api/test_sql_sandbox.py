"""The SQL endpoint holds the read-only recipe: only a single SELECT runs, on a read-only
connection with external access off and configuration locked, under a time limit and a row cap,
in a worker process (``finops.sqlworker``).

Each attack is sent through the HTTP API as a platform token and must come back as the
canonical 400 body while the warehouse stays intact. The limits against a real ``finops
serve`` (bombs, kills, the queue) are in ``test_sql_limits.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.sandbox import Sandbox
from finops.settings import Settings, SqlSettings
from models.errors import QueryRejected
from tests.support.api_warehouse import DAYS, SPEC, auth, build

pytestmark = pytest.mark.integration

ROWS = len(DAYS) * len(SPEC)
MAX_ROWS = 50


@pytest.fixture(scope="module")
def sandbox_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build(tmp_path_factory.mktemp("sql"), time_limit_ms=1500, max_rows=MAX_ROWS)


@pytest.fixture(scope="module")
def sql_client(sandbox_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(sandbox_settings)) as test_client:
        yield test_client


def run(client: TestClient, sql: str, who: str = "platform", **extra: object):  # type: ignore[no-untyped-def]
    return client.post("/api/sql", json={"sql": sql, **extra}, headers=auth(who))


def rejected(client: TestClient, sql: str) -> str:
    response = run(client, sql)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == 400 and body["errors"]
    return str(body["error"])


def allocation_rows(client: TestClient) -> int:
    response = run(client, "SELECT count(*) FROM allocation")
    assert response.status_code == 200, response.text
    return int(response.json()["rows"][0][0])


def test_a_select_works(sql_client: TestClient) -> None:
    body = run(sql_client, "SELECT team, round(sum(effective_cost), 2) AS cost FROM allocation "
                           "WHERE team IS NOT NULL GROUP BY team ORDER BY team").json()
    assert body["columns"] == ["team", "cost"]
    assert [row[0] for row in body["rows"]] == ["payments", "search"]
    assert body["truncated"] is False and body["elapsed_ms"] >= 0


@pytest.mark.parametrize("sql", ["DESCRIBE allocation", "FROM unowned_spend LIMIT 1",
                                 "WITH t AS (SELECT 1 AS x) SELECT x FROM t",
                                 "SELECT sum(difference) FROM reconciliation"])
def test_good_read_only_statements(sql_client: TestClient, sql: str) -> None:
    assert run(sql_client, sql).status_code == 200


def test_settings_are_the_recipes(sql_client: TestClient) -> None:
    body = run(sql_client, "SELECT current_setting('enable_external_access'), "
                           "current_setting('lock_configuration'), "
                           "current_setting('access_mode')").json()
    assert body["rows"] == [[False, True, "read_only"]]


@pytest.mark.parametrize("sql", [
    "COPY allocation TO '{tmp}/stolen.csv'",
    "COPY (SELECT * FROM allocation) TO '{tmp}/stolen.parquet' (FORMAT parquet)",
    "EXPORT DATABASE '{tmp}/export'",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET threads = 8",
    "SET lock_configuration = false",
    "RESET memory_limit",
    "PRAGMA database_list",
    "PRAGMA enable_profiling",
    "CREATE TEMP TABLE scratch AS SELECT 1",
    "DROP VIEW unowned_spend",
    "DELETE FROM allocation",
    "UPDATE allocation SET team = 'payments'",
    "INSERT INTO allocation (team) VALUES ('x')",
    "SELECT 1; DROP TABLE allocation",
    "SELECT 1; SELECT 2",
    "EXPLAIN SELECT 1",
    "USE other",
])
def test_statements_other_than_one_select_are_rejected(sql_client: TestClient, tmp_path: Path,
                                                       sql: str) -> None:
    error = rejected(sql_client, sql.format(tmp=tmp_path))
    assert "only a single SELECT" in error or "parse" in error
    assert not any(tmp_path.iterdir())  # nothing was written anywhere
    assert allocation_rows(sql_client) == ROWS


def test_data_modifying_cte_does_not_delete(sql_client: TestClient,
                                            sandbox_settings: Settings) -> None:
    # Passes the text gate as a SELECT: the read-only connection is what refuses it.
    error = rejected(sql_client, "WITH x AS (DELETE FROM allocation RETURNING *) "
                                 "SELECT * FROM x")
    assert "read-only" in error or "read only" in error.lower()
    assert allocation_rows(sql_client) == ROWS
    with duckdb.connect(str(sandbox_settings.db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM allocation").fetchone() == (ROWS,)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd', header = false)",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_json_auto('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
])
def test_files_are_out_of_reach(sql_client: TestClient, sql: str) -> None:
    error = rejected(sql_client, sql)
    assert "root:" not in error and "/bin/" not in error  # no file content leaks
    # a bare path is no longer a file scan at all: it is just an unknown table
    assert any(why in error for why in ("disabled", "Permission", "does not exist"))


def test_read_parquet_of_a_real_file_is_refused(sql_client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "secret.parquet"
    pl.DataFrame({"secret": ["s3cr3t"]}).write_parquet(path)
    error = rejected(sql_client, f"SELECT * FROM read_parquet('{path}')")
    assert "s3cr3t" not in error and ("disabled" in error or "Permission" in error)


def test_python_replacement_scan_is_off(sandbox_settings: Settings) -> None:
    """A frame in the caller's scope must not become a table (external access is off)."""
    secret_frame = pl.DataFrame({"token": ["do-not-leak"]})  # noqa: F841 (the bait)
    sql = SqlSettings(max_rows=MAX_ROWS, time_limit_ms=500, workers=1)
    with Sandbox(sandbox_settings.snapshot_path, sql) as sandbox, \
            pytest.raises(QueryRejected, match="secret_frame"):
        sandbox.run("SELECT * FROM secret_frame")


def test_slow_query_times_out_and_the_endpoint_recovers(sql_client: TestClient) -> None:
    error = rejected(sql_client,
                     "SELECT count(*) FROM range(1000000000) a, range(1000) b")
    assert "time limit of 1500 ms" in error
    assert run(sql_client, "SELECT 42").json()["rows"] == [[42]]


def test_row_cap_truncates(sql_client: TestClient) -> None:
    body = run(sql_client, "SELECT * FROM range(1000)").json()
    assert body["row_count"] == MAX_ROWS == len(body["rows"]) and body["truncated"] is True


def test_request_can_lower_but_not_raise_the_cap(sql_client: TestClient) -> None:
    lowered = run(sql_client, "SELECT * FROM range(1000)", max_rows=7).json()
    assert len(lowered["rows"]) == 7 and lowered["truncated"] is True
    raised = run(sql_client, "SELECT * FROM range(1000)", max_rows=100000).json()
    assert len(raised["rows"]) == MAX_ROWS
    exact = run(sql_client, f"SELECT * FROM range({MAX_ROWS})").json()
    assert len(exact["rows"]) == MAX_ROWS and exact["truncated"] is False


def test_syntax_error_is_400(sql_client: TestClient) -> None:
    assert "parse" in rejected(sql_client, "SELEC 1")


def test_values_are_json(sql_client: TestClient) -> None:
    body = run(sql_client, "SELECT DATE '2026-10-01' AS d, 1.5::DECIMAL(10, 2) AS m, "
                           "MAP {'team': 'x'} AS labels, 7 AS n, 0.25::DOUBLE AS f").json()
    assert body["rows"] == [["2026-10-01", "1.50", {"team": "x"}, 7, 0.25]]
    assert body["types"] == ["DATE", "DECIMAL(10,2)", "MAP(VARCHAR, VARCHAR)", "INTEGER",
                             "DOUBLE"]


def test_values_json_cannot_carry_come_encoded(sql_client: TestClient) -> None:
    """Each of these was a 500 (or lossy) when rows went through the API's JSON encoder."""
    response = run(sql_client, "SELECT 'ab\\x00\\xff'::BLOB AS b, ['a'::BLOB] AS lb, "
                               "{'y': 'z'::BLOB} AS s, MAP {'k'::BLOB: 1} AS mb, "
                               "'nan'::DOUBLE AS nan, '-inf'::DOUBLE AS ninf, "
                               "2::HUGEINT << 100 AS h, interval 1 day + interval 90 minutes AS i, "
                               "sum(difference) AS money FROM reconciliation")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["types"] == ["BLOB", "BLOB[]", "STRUCT(y BLOB)", "MAP(BLOB, INTEGER)", "DOUBLE",
                             "DOUBLE", "HUGEINT", "INTERVAL", "DECIMAL(38,2)"]
    assert body["rows"] == [["YWIA/w==", ["YQ=="], {"y": "eg=="}, [{"key": "aw==", "value": 1}],
                             "NaN", "-Infinity", str(2 << 100), "P1DT1H30M", "0.00"]]


def test_sql_text_is_size_limited(sql_client: TestClient,
                                  sandbox_settings: Settings) -> None:
    limit = sandbox_settings.sql.max_sql_chars
    error = rejected(sql_client, "SELECT 1 " + " " * limit)
    assert f"the limit is {limit}" in error


def test_result_bytes_are_capped(sql_client: TestClient, sandbox_settings: Settings) -> None:
    cap = sandbox_settings.sql.max_result_bytes
    row = cap // 10
    body = run(sql_client, f"SELECT repeat('x', {row}) AS s FROM range(40)").json()
    assert body["truncated"] is True and body["truncated_by"] == "bytes"
    assert 5 <= body["row_count"] < 10 and len(body["rows"][0][0]) == row
    capped = run(sql_client, "SELECT * FROM range(1000)").json()
    assert capped["truncated_by"] == "rows"
    assert "result cap" in rejected(sql_client, f"SELECT repeat('x', {cap * 2}) AS s")


@pytest.mark.parametrize("who", ["finance", "payments"])
def test_non_platform_tokens_are_403(sql_client: TestClient, who: str) -> None:
    response = run(sql_client, "SELECT 1", who=who)
    assert response.status_code == 403 and response.json()["status"] == 403
