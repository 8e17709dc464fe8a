"""No 500 for any input: bounded dates, capped windows, bounded request bodies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.settings import Settings
from tests.support import assert_error
from tests.support.api_warehouse import DAYS, auth

pytestmark = pytest.mark.integration

WINDOWED = ["/api/allocation", "/api/teams", "/api/teams/payments",
            "/api/teams/payments/explain", "/api/unowned", "/api/coverage",
            "/dashboards/finance", "/dashboards/teams/payments", "/dashboards/unowned"]
# The inputs that gave OverflowError 500s before dates were bounded.
FAR_DATES = [("end", "0001-01-05"), ("start", "0001-01-01"), ("end", "9999-12-31"),
             ("start", "9999-12-31"), ("end", "1999-12-31"), ("start", "2101-01-01")]


@pytest.fixture(scope="module")
def short_windows(settings: Settings) -> Iterator[TestClient]:
    """The API with windows capped at 31 days and bodies at 2 KiB."""
    capped = settings.model_copy(update={"api": settings.api.model_copy(
        update={"max_window_days": 31, "max_body_bytes": 2048})})
    with TestClient(create_app(capped)) as client:
        yield client


@pytest.mark.parametrize("path", WINDOWED)
@pytest.mark.parametrize(("name", "value"), FAR_DATES)
def test_far_dates_are_422_naming_the_parameter(client: TestClient, path: str, name: str,
                                                value: str) -> None:
    body = assert_error(client.get(path, params={name: value}, headers=auth("platform")), 422)
    assert any(e.startswith(f"query.{name}:") for e in body["errors"]), body


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2101-01-01"])
def test_far_as_of_is_422(client: TestClient, value: str) -> None:
    body = assert_error(client.get("/api/budgets", params={"as_of": value},
                                   headers=auth("finance")), 422)
    assert any(e.startswith("query.as_of:") and "2" in e for e in body["errors"])


@pytest.mark.parametrize(("start", "end"), [("2000-01-01", "2000-01-31"),
                                            ("2100-12-01", "2100-12-31")])
def test_the_first_and_last_accepted_days_answer(short_windows: TestClient, start: str,
                                                 end: str) -> None:
    for path in WINDOWED:
        response = short_windows.get(path, params={"start": start, "end": end},
                                     headers=auth("platform"))
        assert response.status_code == 200, (path, response.text)
    budgets = short_windows.get("/api/budgets", params={"as_of": end}, headers=auth("finance"))
    assert budgets.status_code == 200 and budgets.json()["as_of"] == end


@pytest.mark.parametrize("path", WINDOWED)
def test_a_window_over_the_cap_is_400_naming_the_setting(short_windows: TestClient,
                                                         path: str) -> None:
    params = {"start": "2026-09-01", "end": str(DAYS[-1])}  # 44 days
    body = assert_error(short_windows.get(path, params=params, headers=auth("platform")), 400)
    assert "44 days" in body["error"] and "FINOPS_API__MAX_WINDOW_DAYS" in body["error"]


def test_a_window_at_the_cap_answers(short_windows: TestClient) -> None:
    params = {"start": "2026-09-14", "end": str(DAYS[-1])}  # 31 days
    assert short_windows.get("/api/coverage", params=params,
                             headers=auth("finance")).status_code == 200


def test_a_start_alone_far_before_the_data_is_capped_too(short_windows: TestClient) -> None:
    response = short_windows.get("/api/teams", params={"start": "2001-01-01"},
                                 headers=auth("finance"))
    assert "FINOPS_API__MAX_WINDOW_DAYS" in assert_error(response, 400)["error"]


def test_a_body_over_the_limit_is_413(short_windows: TestClient) -> None:
    sql = "SELECT 1 -- " + "x" * 4096
    body = assert_error(short_windows.post("/api/sql", json={"sql": sql},
                                           headers=auth("platform")), 413)
    assert "2048 bytes" in body["error"] and "FINOPS_API__MAX_BODY_BYTES" in body["error"]


def test_a_streamed_body_over_the_limit_is_413(short_windows: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"sql": "SELECT 1 -- '
        for _ in range(10):
            yield b"y" * 512
        yield b'"}'

    response = short_windows.post("/api/sql", content=chunks(),
                                  headers={**auth("platform"),
                                           "Content-Type": "application/json"})
    assert_error(response, 413)


def test_a_body_within_the_limit_reaches_the_route(short_windows: TestClient) -> None:
    response = short_windows.post("/api/sql", json={"sql": "SELECT 42 AS answer"},
                                  headers=auth("platform"))
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == [[42]]


def test_413s_are_counted_in_metrics(short_windows: TestClient) -> None:
    short_windows.post("/api/sql", content=b"x" * 4096,
                       headers=auth("platform"))
    assert 'status="413"' in short_windows.get("/metrics").text
