"""GET /api/savings and /api/efficiency over the hand-written warehouse (no Kubernetes usage:
nothing to suggest, no node pools) and their scoping; the demo's figures are checked in
``tests/api/test_act_reads.py`` and through the CLI in ``tests/cli/test_report_act.py``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.api import assert_error
from tests.support.api_warehouse import auth

pytestmark = pytest.mark.integration


def test_savings_without_usage_is_empty_for_every_role(client: TestClient) -> None:
    for role in ("finance", "platform", "payments"):
        body = client.get("/api/savings", headers=auth(role)).json()
        assert body["workloads"] == [] and body["monthly_saving"] == 0.0, role
        assert body["window"] == {"start": "2026-10-01", "end": "2026-10-14"}


def test_node_pools_are_organisation_wide(client: TestClient) -> None:
    assert client.get("/api/efficiency", headers=auth("finance")).json()["node_pools"] == []
    assert_error(client.get("/api/efficiency", headers=auth("payments")), 403)


def test_efficiency_page_for_a_team_shows_its_workloads_only(client: TestClient) -> None:
    html = client.get("/dashboards/efficiency", headers=auth("payments")).text
    assert "Efficiency and savings" in html and "Idle money per day" not in html
    assert "No workload requests more than" in html
    org = client.get("/dashboards/efficiency", headers=auth("platform")).text
    assert "No node usage in this window." in org
