"""Team tokens see only their team's rows on every route; finance sees all; no token -> 401."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.api_warehouse import ALERTS, DAYS, auth, expected

pytestmark = pytest.mark.integration

WINDOW = f"start={DAYS[0]}&end={DAYS[-1]}"
PROTECTED_GETS = [
    "/api/allocation", "/api/teams", "/api/teams/payments", "/api/teams/payments/explain",
    "/api/unowned", "/api/coverage", "/api/budgets", "/api/alerts", "/dashboards",
    "/dashboards/finance", "/dashboards/teams/payments", "/dashboards/unowned",
    "/api/unowned/items", "/api/savings", "/api/efficiency", "/dashboards/efficiency",
]


@pytest.mark.parametrize("path", PROTECTED_GETS)
def test_every_route_needs_a_token(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_sql_needs_a_token(client: TestClient) -> None:
    assert client.post("/api/sql", json={"sql": "select 1"}).status_code == 401


@pytest.mark.parametrize("aggregate", ["team", "namespace", "service", "cost_kind"])
def test_allocation_only_returns_own_team_rows(client: TestClient, aggregate: str) -> None:
    body = client.get(f"/api/allocation?{WINDOW}&aggregate={aggregate},team&step=window",
                      headers=auth("payments")).json()
    assert body["rows"] and {r["keys"]["team"] for r in body["rows"]} == {"payments"}
    assert body["total_effective_cost"] == round(expected(team="payments"), 2)


@pytest.mark.parametrize("team_filter", ["team:search", "team:__unowned__",
                                         "team:payments,search"])
def test_allocation_filter_on_another_team_is_403(client: TestClient, team_filter: str) -> None:
    response = client.get(f"/api/allocation?filter={team_filter}", headers=auth("payments"))
    assert response.status_code == 403


def test_other_filters_cannot_widen_the_scope(client: TestClient) -> None:
    body = client.get(f"/api/allocation?{WINDOW}&aggregate=namespace&step=window"
                      "&filter=namespace:sandbox,search", headers=auth("payments")).json()
    assert body["rows"] == []


def test_teams_list_has_only_own_team(client: TestClient) -> None:
    teams = client.get(f"/api/teams?{WINDOW}", headers=auth("search")).json()["teams"]
    assert [(t["team"], t["effective_cost"]) for t in teams] == [
        ("search", round(expected(team="search"), 2))]


@pytest.mark.parametrize("path", ["/api/teams/search", "/api/teams/search/explain",
                                  "/api/teams/ghost", "/dashboards/teams/search",
                                  "/api/alerts?team=search"])
def test_another_teams_path_is_403(client: TestClient, path: str) -> None:
    assert client.get(path, headers=auth("payments")).status_code == 403


@pytest.mark.parametrize("path", ["/api/unowned", "/api/coverage", "/dashboards/finance",
                                  "/api/efficiency"])
def test_team_tokens_cannot_see_org_views(client: TestClient, path: str) -> None:
    response = client.get(path, headers=auth("payments"))
    assert response.status_code == 403 and response.json()["status"] == 403


def test_team_with_no_spend_sees_zero(client: TestClient) -> None:
    body = client.get(f"/api/teams/data?{WINDOW}", headers=auth("data")).json()
    assert body["total_effective_cost"] == 0.0 and body["daily"] == []


def test_alerts_are_scoped(client: TestClient) -> None:
    mine = client.get("/api/alerts", headers=auth("payments")).json()["alerts"]
    assert [a["alert_key"] for a in mine] == [ALERTS[0][0]]
    everything = client.get("/api/alerts", headers=auth("finance")).json()["alerts"]
    assert {a["alert_key"] for a in everything} == {a[0] for a in ALERTS}


def test_budgets_are_scoped(client: TestClient) -> None:
    response = client.get("/api/budgets", headers=auth("payments"))
    assert response.status_code == 200, response.text
    assert [b["budget"] for b in response.json()["budgets"]] == ["payments-monthly"]
    everyone = client.get("/api/budgets", headers=auth("finance")).json()["budgets"]
    assert {b["budget"] for b in everyone} == {"payments-monthly", "search-monthly"}


def test_team_dashboard_shows_no_other_team(client: TestClient) -> None:
    response = client.get("/dashboards/teams/payments", headers=auth("payments"))
    assert response.status_code == 200
    for other in ("search", "sandbox", "bucket-logs", "idle-capacity", "/dashboards/finance"):
        assert other not in response.text


def test_dashboard_home_sends_team_to_its_page(client: TestClient) -> None:
    response = client.get("/dashboards", headers=auth("payments"), follow_redirects=False)
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/dashboards/teams/payments"


def test_finance_sees_everything_but_sql(client: TestClient) -> None:
    for path in ("/api/unowned", "/api/coverage", "/api/teams/search", "/dashboards/finance",
                 "/dashboards/unowned", "/dashboards/teams/search"):
        assert client.get(path, headers=auth("finance")).status_code == 200, path
    teams = client.get("/api/teams", headers=auth("finance")).json()["teams"]
    assert {t["team"] for t in teams} == {"payments", "search", "data"}
    assert client.post("/api/sql", json={"sql": "select 1"},
                       headers=auth("finance")).status_code == 403
