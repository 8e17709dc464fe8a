"""``/api/backstage/...`` (the Cost Insights plugin's API) over the governance scenario, every
figure from the scenario's table: payments 1.68 a day (pay 1.20 + pay-batch 0.48), srch
2.784, lab 0.24 unowned, an ml RDS 1.00, an untagged bucket 0.50; data 2026-10-01..10."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from finops.api.backstage import parse_intervals
from tests.support import assert_error
from tests.support.governance_data import auth

API = "/api/backstage"


def get(client: TestClient, path: str, who: str = "platform") -> object:
    response = client.get(API + path, headers=auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def test_intervals_are_two_periods_ending_before_the_date() -> None:
    days = parse_intervals("R2/P30D/2026-11-01")
    assert (str(days.previous.start), str(days.previous.end)) == ("2026-09-02", "2026-10-01")
    assert (str(days.current.start), str(days.current.end)) == ("2026-10-02", "2026-10-31")
    months = parse_intervals("R2/P3M/2026-10-01")
    assert (str(months.previous.start), str(months.current.start),
            str(months.current.end)) == ("2026-04-01", "2026-07-01", "2026-09-30")


@pytest.mark.integration
def test_billing_date_groups_and_projects(governance_client: TestClient) -> None:
    assert get(governance_client, "/last-complete-billing-date") == {"date": "2026-10-10",
                                                                     "currency": "EUR"}
    assert get(governance_client, "/user-groups?user=user:default/ana", "payments") == [
        {"id": "payments", "name": "payments"}]
    groups = get(governance_client, "/user-groups?user=ana")
    assert [g["id"] for g in groups] == ["payments", "__unallocated__"]  # type: ignore[index]
    projects = get(governance_client, "/group-projects?group=payments")
    assert [p["id"] for p in projects] == ["k8s:c1/pay", "k8s:c1/pay-batch"]  # type: ignore[index]


@pytest.mark.integration
def test_group_daily_cost_with_change_over_two_periods(governance_client: TestClient) -> None:
    # previous 09-28..10-02 holds two days of data, current 10-03..10-07 five
    cost = get(governance_client, "/group-daily-cost?group=payments&intervals=R2/P5D/2026-10-08")
    assert isinstance(cost, dict)
    assert [a["date"] for a in cost["aggregation"]][:1] == ["2026-09-28"]
    assert [a["amount"] for a in cost["aggregation"]] == [0.0] * 3 + [1.68] * 7
    assert cost["change"] == {"ratio": 1.5, "amount": 5.04}  # (8.40 - 3.36) / 3.36
    assert cost["trendline"]["slope"] > 0
    by_project = {c["id"]: sum(a["amount"] for a in c["aggregation"])
                  for c in cost["groupedCosts"]["project"]}
    assert by_project == {"k8s:c1/pay": pytest.approx(8.40),
                          "k8s:c1/pay-batch": pytest.approx(3.36)}
    assert [c["id"] for c in cost["groupedCosts"]["product"]] == ["kubernetes"]


@pytest.mark.integration
def test_project_entity_and_product_insights(governance_client: TestClient) -> None:
    intervals = "intervals=R2/P5D/2026-10-11"
    srch = get(governance_client, f"/project-daily-cost?project=k8s:c1/srch&{intervals}")
    assert [a["amount"] for a in srch["aggregation"]] == [2.78] * 10  # type: ignore[index]
    assert srch["change"] == {"ratio": 0.0, "amount": 0.0}  # type: ignore[index]
    entity = get(governance_client, f"/entity-daily-cost?entity=component:default/pay-svc&"
                                    f"{intervals}")
    assert [a["amount"] for a in entity["aggregation"]] == [1.2] * 10  # type: ignore[index]
    insight = get(governance_client, f"/product-insights?product=kubernetes&group=payments&"
                                     f"{intervals}")
    assert insight["aggregation"] == [8.4, 8.4]  # type: ignore[index]
    assert [e["id"] for e in insight["entities"]["project"]] == [  # type: ignore[index]
        "k8s:c1/pay", "k8s:c1/pay-batch"]
    products = get(governance_client, f"/products?{intervals}")
    assert [p["kind"] for p in products] == ["Amazon RDS", "Amazon S3",  # type: ignore[index]
                                             "kubernetes"]


@pytest.mark.integration
def test_alerts_from_budgets_governance_and_unlabeled_spend(
        governance_client: TestClient) -> None:
    mine = get(governance_client, "/alerts?group=search", "search")
    titles = [a["title"] for a in mine]  # type: ignore[union-attr]
    assert titles[0] == "quota-over-budget: team search"
    unlabeled = get(governance_client, "/alerts?group=__unallocated__")[0]  # type: ignore[index]
    assert unlabeled["kind"] == "unlabeled"
    assert unlabeled["data"]["unlabeledCost"] == 7.40  # (0.24 + 0.50) x 10
    assert {p["id"]: p["unlabeledCost"] for p in unlabeled["data"]["projects"]} == {
        "cloud:AWS/acct": 5.0, "k8s:c1/lab": 2.4}


@pytest.mark.integration
def test_team_tokens_are_scoped_and_bad_input_is_a_4xx(governance_client: TestClient) -> None:
    def status(path: str, who: str | None = "payments") -> int:
        headers = auth(who) if who else {}
        return governance_client.get(API + path, headers=headers).status_code
    assert status("/group-daily-cost?group=search&intervals=R2/P5D/2026-10-11") == 403
    assert status("/alerts?group=__unallocated__") == 403
    assert status("/last-complete-billing-date", None) == 401
    # a team token's project cost is its own share: payments has none in srch
    srch = get(governance_client, "/project-daily-cost?project=k8s:c1/srch&intervals="
                                  "R2/P5D/2026-10-11", "payments")
    assert {a["amount"] for a in srch["aggregation"]} == {0.0}  # type: ignore[index]
    for bad in ("/group-daily-cost?group=payments&intervals=R2/P5X/2026-10-11",
                "/group-daily-cost?group=payments&intervals=R2/P5D/2026-13-01",
                "/project-daily-cost?project=c1/pay&intervals=R2/P5D/2026-10-11",
                "/group-daily-cost?group=payments&intervals=R2/P9999D/2026-10-11"):
        assert_error(governance_client.get(API + bad, headers=auth("payments")), 400)
    assert_error(governance_client.get(API + "/entity-daily-cost?entity=nope&intervals="
                                       "R2/P5D/2026-10-11", headers=auth("payments")), 404)
