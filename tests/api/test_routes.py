"""The read routes against the hand-written warehouse: dollars to the cent against SPEC."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.settings import Settings
from tests.support.api_warehouse import DAYS, SPEC, auth, expected

pytestmark = pytest.mark.integration

WINDOW = f"start={DAYS[0]}&end={DAYS[-1]}"


def get(client: TestClient, url: str, who: str = "finance") -> dict:  # type: ignore[type-arg]
    response = client.get(url, headers=auth(who))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/allocation", "/api/sql", "/api/teams/{team}", "/api/unowned"} <= set(paths)


def test_allocation_by_team_over_the_window(client: TestClient) -> None:
    body = get(client, f"/api/allocation?{WINDOW}&aggregate=team&step=window")
    by_team = {row["keys"]["team"]: row["effective_cost"] for row in body["rows"]}
    assert by_team == {
        "payments": round(expected(team="payments"), 2),
        "search": round(expected(team="search"), 2),
        "__unowned__": round(expected(team=None), 2),
    }
    assert body["total_effective_cost"] == round(expected(), 2)
    assert {row["period_start"] for row in body["rows"]} == {str(DAYS[0])}


def test_allocation_daily_steps_sum_to_each_day(client: TestClient) -> None:
    body = get(client, f"/api/allocation?{WINDOW}&aggregate=provider&step=day")
    rows = {(r["period_start"], r["keys"]["provider"]): r["effective_cost"] for r in body["rows"]}
    assert len(rows) == 2 * len(DAYS)
    for day in (DAYS[0], DAYS[-1]):
        assert rows[(str(day), "aws")] == round(expected(day, day, provider="aws"), 2)


def test_allocation_weeks_start_on_monday(client: TestClient) -> None:
    body = get(client, f"/api/allocation?{WINDOW}&aggregate=team&step=week")
    starts = {date.fromisoformat(r["period_start"]) for r in body["rows"]}
    assert all(day.weekday() == 0 for day in starts)
    assert sum(r["effective_cost"] for r in body["rows"]) == pytest.approx(expected(), abs=0.03)


def test_allocation_filters_and_multiple_aggregates(client: TestClient) -> None:
    url = (f"/api/allocation?{WINDOW}&aggregate=cluster,namespace&step=window"
           '&filter=cluster:"eks-prod"&filter=team:payments,__unowned__')
    body = get(client, url)
    keys = {(r["keys"]["cluster"], r["keys"]["namespace"]): r["effective_cost"]
            for r in body["rows"]}
    assert keys == {
        ("eks-prod", "payments-api"): round(expected(namespace="payments-api"), 2),
        ("eks-prod", "sandbox"): round(expected(namespace="sandbox"), 2),
    }
    assert body["filters"] == {"cluster": ["eks-prod"], "team": ["payments", "__unowned__"]}


def test_allocation_filter_syntax_errors_are_400(client: TestClient) -> None:
    response = client.get("/api/allocation?filter=colour:red", headers=auth("finance"))
    assert response.status_code == 400 and "colour" in response.json()["error"]


def test_allocation_billed_and_list_cost(client: TestClient) -> None:
    body = get(client, f"/api/allocation?{WINDOW}&aggregate=service&step=window"
                       "&filter=service:\"Amazon RDS\"")
    (row,) = body["rows"]
    assert row["billed_cost"] == row["list_cost"] == round(expected(service="Amazon RDS"), 2)


def test_teams_list_includes_declared_team_without_spend(client: TestClient) -> None:
    teams = {t["team"]: t for t in get(client, f"/api/teams?{WINDOW}")["teams"]}
    assert set(teams) == {"payments", "search", "data"}
    assert teams["data"]["effective_cost"] == 0.0 and teams["data"]["declared"]
    assert teams["payments"]["effective_cost"] == round(expected(team="payments"), 2)
    assert teams["payments"]["slack_channel"] == "#payments-costs"


def test_team_detail(client: TestClient) -> None:
    body = get(client, f"/api/teams/payments?start={DAYS[7]}&end={DAYS[-1]}")
    assert body["total_effective_cost"] == round(expected(DAYS[7], team="payments"), 2)
    assert body["previous_window_effective_cost"] == round(
        expected(DAYS[0], DAYS[6], team="payments"), 2)
    assert [d["day"] for d in body["daily"]] == [str(d) for d in DAYS[7:]]
    assert body["daily"][0]["effective_cost"] == round(
        expected(DAYS[7], DAYS[7], team="payments"), 2)
    kinds = {k["name"]: k["effective_cost"] for k in body["by_cost_kind"]}
    assert kinds == {"cpu": round(expected(DAYS[7], team="payments", cost_kind="cpu"), 2),
                     "ram": round(expected(DAYS[7], team="payments", cost_kind="ram"), 2)}
    assert [n["name"] for n in body["top_namespaces"]] == ["payments-api"]


def test_team_detail_top_services_largest_first(client: TestClient) -> None:
    body = get(client, f"/api/teams/search?{WINDOW}")
    services = body["top_services"]
    assert services[0]["effective_cost"] >= services[-1]["effective_cost"]
    assert {"name": "Amazon RDS",
            "effective_cost": round(expected(service="Amazon RDS"), 2)} in services


def test_unowned_by_reason_and_items(client: TestClient) -> None:
    body = get(client, f"/api/unowned?{WINDOW}&limit=2")
    reasons = {r["name"]: r["effective_cost"] for r in body["by_reason"]}
    assert reasons == {line.reason: round(expected(reason=line.reason), 2)
                       for line in SPEC if line.reason}
    assert body["total_effective_cost"] == round(expected(team=None), 2)
    assert len(body["top_items"]) == 2
    assert body["top_items"][0]["namespace"] == "sandbox"  # the largest unowned item


def test_coverage_percent_allocated(client: TestClient) -> None:
    body = get(client, f"/api/coverage?{WINDOW}")
    owned = expected() - expected(team=None)
    assert body["total_effective_cost"] == round(expected(), 2)
    assert body["allocated_effective_cost"] == round(owned, 2)
    assert body["unowned_effective_cost"] == round(expected(team=None), 2)
    assert body["allocated_pct"] == round(100 * owned / expected(), 2)


@pytest.mark.parametrize(("end", "start"), [
    (None, str(DAYS[0])),  # 30 days back would be before the data: it starts with the data
    ("2026-12-31", "2026-12-01"),  # the whole month, not only its last 30 days
    ("2026-12-15", "2026-11-16"),  # 30 days when the month so far is shorter
])
def test_default_window(client: TestClient, end: str | None, start: str) -> None:
    body = get(client, "/api/teams" + (f"?end={end}" if end else ""))
    assert body["window"] == {"start": start, "end": end or str(DAYS[-1])}


def test_a_request_is_counted_once(settings: Settings) -> None:
    with TestClient(create_app(settings)) as fresh:
        fresh.get("/api/teams/payments", headers=auth("finance"))
        text = fresh.get("/metrics").text
    assert 'finops_http_requests_total{method="GET",route="/api/teams/{team}",status="200"} 1' \
        in text.splitlines()


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/api/teams/payments", headers=auth("finance"))
    client.get("/api/teams/ghost", headers=auth("finance"))
    text = client.get("/metrics").text
    assert 'finops_http_requests_total{method="GET",route="/api/teams/{team}",status="200"}' \
        in text
    assert 'route="/api/teams/{team}",status="404"' in text
    assert "ghost" not in text  # path values never become label values
    age = [line for line in text.splitlines() if line.startswith("finops_snapshot_age_seconds ")]
    assert age and float(age[0].split()[1]) >= 0


def test_explain_uses_the_allocation_engines_breakdown(client: TestClient) -> None:
    body = get(client, f"/api/teams/search/explain?{WINDOW}", who="search")
    assert body["team"] == "search" and body["window"] == {"start": str(DAYS[0]),
                                                           "end": str(DAYS[-1])}
    assert body["total"] == round(expected(team="search"), 2)
    cloud = {row["service_name"]: row["effective_cost"] for row in body["cloud"]}
    assert cloud == {"Amazon RDS": round(expected(service="Amazon RDS"), 2)}


def test_coverage_includes_the_label_coverage_view(client: TestClient) -> None:
    body = get(client, f"/api/coverage?start={DAYS[-1]}&end={DAYS[-1]}")
    (row,) = body["label_coverage"]  # one row per day: the window has one day
    day_total = expected(DAYS[-1], DAYS[-1])
    assert row["day"] == str(DAYS[-1])
    assert row["total_cost"] == round(day_total, 2)
    assert row["owned_cost"] == round(day_total - expected(DAYS[-1], DAYS[-1], team=None), 2)
    assert isinstance(body["quota_coverage"], list)  # the view exists (no quotas loaded)
