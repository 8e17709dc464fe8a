"""GET /api/governance and /dashboards/governance over the hand-checked governance scenario
(``tests.support.governance_data``): who sees which findings, and bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import assert_error
from tests.support.governance_data import auth

LIVE = {"unbounded-namespace", "quota-over-budget", "team-without-budget",
        "budget-without-spend", "unlabeled-workload", "untagged-resource",
        "catalog-owner-mismatch", "component-without-workload", "workload-without-entity"}


@pytest.mark.integration
@pytest.mark.parametrize("role", ["platform", "finance"])
def test_platform_and_finance_see_every_finding(governance_client: TestClient,
                                                role: str) -> None:
    body = governance_client.get("/api/governance", headers=auth(role)).json()
    assert body["window"] == {"start": "2026-10-01", "end": "2026-10-10"}
    assert LIVE <= {f["kind"] for f in body["findings"]}
    assert body["currency"] == "EUR" and body["catalog_entities"] == 4
    search = next(r for r in body["quota_ceilings"] if r["team"] == "search")
    assert (search["ceiling_monthly"], search["budget_monthly"]) == (270.82, 100.0)
    assert {e["name"] for e in body["exemptions"]} == {"lab-pilot", "old-srch"}


@pytest.mark.integration
def test_a_team_token_sees_only_its_team(governance_client: TestClient) -> None:
    body = governance_client.get("/api/governance", headers=auth("payments")).json()
    assert {f["team"] for f in body["findings"]} == {"payments"}
    assert {(f["kind"], f["subject"]) for f in body["findings"]} >= {
        ("unbounded-namespace", "c1/pay-batch"), ("quota-over-budget", "team payments")}
    assert [r["team"] for r in body["quota_ceilings"]] == ["payments"]
    assert {c["name"] for c in body["coverage"]} == {"payments"}
    assert body["exemptions"] == []
    assert sum(v["count"] for v in body["summary"]["by_kind"].values()) == len(body["findings"])
    other = governance_client.get("/api/governance", headers=auth("search")).json()
    assert "c1/pay-batch" not in {f["subject"] for f in other["findings"]}
    assert {e["name"] for e in other["exemptions"]} == {"old-srch"}  # over search's srch


@pytest.mark.integration
def test_bad_requests(governance_client: TestClient) -> None:
    assert_error(governance_client.get("/api/governance"), 401)
    assert_error(governance_client.get("/api/governance?start=2026-10-09&end=2026-10-02",
                                       headers=auth("platform")), 400)
    assert_error(governance_client.get("/api/governance?end=1999-01-01",
                                       headers=auth("platform")), 422)


@pytest.mark.integration
def test_the_page_shows_a_team_its_own_findings(governance_client: TestClient) -> None:
    page = governance_client.get("/dashboards/governance", headers=auth("payments"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<caption>Findings</caption>" in html and '<th scope="col">at stake</th>' in html
    assert "c1/pay-batch" in html and "c1/lab" not in html and "c1/srch" not in html
    assert "quota allows 74.40 EUR/month, budget is 50.00 EUR" in html
    assert "$" not in html.split("<main id=\"content\">")[1]  # money carries its currency code
    everyone = governance_client.get("/dashboards/governance", headers=auth("platform")).text
    assert "c1/lab" in everyone and 'id="quota-budget"' in everyone
    assert 'id="label-coverage"' in everyone
