"""``format=csv|parquet`` on the data routes, the ``label:<key>`` dimension, and error pages
for browsers: same rows as the JSON, same scoping, totals equal to the route's."""

from __future__ import annotations

import io
from collections.abc import Iterator

import polars as pl
import pytest
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.settings import Settings
from tests.support.api_warehouse import LIST_UPLIFT, auth, expected, explore_warehouse

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API tests' warehouse with namespace labels."""
    settings: Settings = explore_warehouse(tmp_path_factory.mktemp("labelled"))
    with TestClient(create_app(settings)) as client:
        yield client


def read(response: object, fmt: str) -> pl.DataFrame:
    body = io.BytesIO(response.content)  # type: ignore[attr-defined]
    return pl.read_csv(body) if fmt == "csv" else pl.read_parquet(body)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_allocation_file_holds_the_json_rows(labelled: TestClient, fmt: str) -> None:
    query = "/api/allocation?aggregate=namespace&step=day&filter=cluster:eks-prod"
    data = labelled.get(query, headers=auth("finance")).json()
    response = labelled.get(f"{query}&format={fmt}", headers=auth("finance"))
    assert response.status_code == 200
    assert f'.{fmt}"' in response.headers["content-disposition"]
    frame = read(response, fmt)
    assert frame.columns == ["period_start", "namespace", "billed_cost", "effective_cost",
                             "list_cost", "currency"]
    assert frame.height == len(data["rows"]) == 14 * 3
    assert round(frame["effective_cost"].sum(), 2) == data["total_effective_cost"]
    assert round(frame["effective_cost"].sum(), 2) == round(expected(cluster="eks-prod"), 2)
    assert set(frame["currency"].to_list()) == {"USD"}
    assert round(frame["list_cost"].sum(), 2) == round(LIST_UPLIFT * expected(cluster="eks-prod"),
                                                       2)


def test_team_tokens_download_their_own_rows_only(labelled: TestClient) -> None:
    frame = read(labelled.get("/api/allocation?aggregate=team,namespace&format=csv",
                              headers=auth("payments")), "csv")
    assert set(frame["team"].to_list()) == {"payments"}
    assert round(frame["effective_cost"].sum(), 2) == round(expected(team="payments"), 2)
    refused = labelled.get("/api/unowned?format=csv", headers=auth("payments"))
    assert refused.status_code == 403 and refused.json()["status"] == 403
    other = labelled.get("/api/allocation?filter=team:search&format=csv",
                         headers=auth("payments"))
    assert other.status_code == 403


def test_teams_team_and_unowned_as_files(labelled: TestClient) -> None:
    teams = read(labelled.get("/api/teams?format=csv", headers=auth("finance")), "csv")
    assert dict(zip(teams["team"], teams["effective_cost"], strict=True))["data"] == 0
    assert round(teams["effective_cost"].sum(), 2) == round(
        expected(team="payments") + expected(team="search"), 2)
    daily = read(labelled.get("/api/teams/payments?format=parquet", headers=auth("payments")),
                 "parquet")
    assert daily.height == 14 and round(daily["effective_cost"].sum(), 2) == round(
        expected(team="payments"), 2)
    items = read(labelled.get("/api/unowned?format=csv", headers=auth("platform")), "csv")
    assert round(items["effective_cost"].sum(), 2) == round(expected(team=None), 2)
    assert "bucket-logs" in items["resource_id"].to_list()


def test_group_and_filter_by_a_namespace_label(labelled: TestClient) -> None:
    data = labelled.get("/api/allocation?aggregate=label:cost-center&step=window",
                        headers=auth("finance")).json()
    by_value = {r["keys"]["label:cost-center"]: r["effective_cost"] for r in data["rows"]}
    assert by_value["cc-100"] == round(expected(namespace="payments-api"), 2)
    assert by_value["cc-200"] == round(expected(namespace="search")
                                       + expected(namespace="search-batch"), 2)
    assert round(sum(by_value.values()), 2) == data["total_effective_cost"]  # none: the rest
    only = labelled.get('/api/allocation?aggregate=namespace&step=window'
                        '&filter=label:cost-center:"cc-200"', headers=auth("finance")).json()
    assert {r["keys"]["namespace"] for r in only["rows"]} == {"search", "search-batch"}
    bad = labelled.get("/api/allocation?aggregate=label:'x", headers=auth("finance"))
    assert bad.status_code == 400 and "label:<key>" in bad.json()["error"]


def test_unknown_format_is_a_422(labelled: TestClient) -> None:
    response = labelled.get("/api/allocation?format=xlsx", headers=auth("finance"))
    assert response.status_code == 422 and "format" in response.json()["error"]


def test_browsers_get_error_pages_and_api_clients_json(labelled: TestClient) -> None:
    signed = labelled.post("/signin", data={"token": "fin-7f3a", "next": "/dashboards/"},
                           headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert signed.status_code == 303
    shown = labelled.get("/dashboards/finance?preset=fortnight", headers={"Accept": "text/html"})
    assert shown.status_code == 400 and shown.headers["content-type"].startswith("text/html")
    assert "preset &#x27;fortnight&#x27;" in shown.text and '<meta name="viewport"' in shown.text
    missing = labelled.get("/dashboards/nothing-here", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "<h1>Not found</h1>" in missing.text
    api = labelled.get("/dashboards/finance?preset=fortnight", headers=auth("finance"))
    assert api.status_code == 400 and api.json()["ok"] is False


def test_budgets_coverage_and_movers_as_files(labelled: TestClient) -> None:
    budgets = read(labelled.get("/api/budgets?format=csv", headers=auth("payments")), "csv")
    assert budgets["budget"].to_list() == ["payments-monthly"]  # a team sees its own
    assert budgets["actual"].item() == pytest.approx(expected(team="payments"), abs=0.005)
    daily = read(labelled.get("/api/coverage?format=csv", headers=auth("finance")), "csv")
    assert daily.height == 14
    assert round(daily["allocated_effective_cost"].sum(), 2) == round(
        expected(team="payments") + expected(team="search"), 2)
    movers = labelled.get("/api/movers", headers=auth("finance")).json()
    first = movers["rows"][0]
    assert first["team"] == "payments" and first["delta"] == round(2.11 * 7, 2)
    as_csv = read(labelled.get("/api/movers?format=csv", headers=auth("finance")), "csv")
    assert as_csv["team"].to_list() == [r["team"] for r in movers["rows"]]
    assert labelled.get("/api/movers", headers=auth("payments")).status_code == 403
