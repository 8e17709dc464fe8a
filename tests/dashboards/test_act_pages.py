"""The pages' actionable parts over the hand-written warehouse: the unowned items table (sort
links, filters and pages that keep the window, copyable ids, team scope), budget states and
the burn-down's forecast band, anomalies and explain on the team page."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from dashboards.budgets import state
from tests.support.api_warehouse import auth

pytestmark = pytest.mark.integration
WINDOW = {"start": "2026-10-01", "end": "2026-10-14"}


def links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def test_unowned_table_links_keep_the_window_and_page(client: TestClient) -> None:
    html = client.get("/dashboards/unowned", params={**WINDOW, "per_page": 1},
                      headers=auth("platform")).text
    assert 'id="unowned-items"' in html and "page 1 of 3" in html
    nxt = next(h for h in links(html) if "page=2" in h)
    assert "start=2026-10-01" in nxt and "end=2026-10-14" in nxt and "per_page=1" in nxt
    sort = next(h for h in links(html) if "sort=first_seen" in h)
    assert "start=2026-10-01" in sort
    assert '<input type="hidden" name="start" value="2026-10-01">' in html
    second = client.get(nxt, headers=auth("platform")).text
    assert "page 2 of 3" in second


def test_ids_are_whole_and_copyable(client: TestClient) -> None:
    html = client.get("/dashboards/unowned", headers=auth("platform")).text
    assert '<code class="id">bucket-logs</code>' in html
    assert 'data-copy="bucket-logs"' in html and "navigator.clipboard" in html


def test_a_team_lead_sees_its_unowned_places(client: TestClient) -> None:
    search = client.get("/dashboards/unowned", headers=auth("search"))
    assert search.status_code == 200 and "bucket-logs" in search.text
    assert "sandbox" not in search.text and "idle-capacity" not in search.text
    payments = client.get("/dashboards/unowned", headers=auth("payments")).text
    assert "bucket-logs" not in payments and "none of 0 match" in payments


def test_bad_table_parameters_are_400(client: TestClient) -> None:
    for params in ({"sort": "size"}, {"page": "x"}, {"order": "sideways"}, {"page": "7"}):
        response = client.get("/dashboards/unowned", params=params, headers=auth("platform"))
        assert response.status_code == 400, params


def test_budget_states_match_the_budgets_api(client: TestClient) -> None:
    rows = client.get("/api/budgets", params={"as_of": "2026-10-14"},
                      headers=auth("finance")).json()["budgets"]
    html = client.get("/dashboards/finance", headers=auth("finance")).text
    states = re.findall(r'data-state="([a-z-]+)"', html)
    assert states == [state(r) for r in rows]
    # payments: 231.77 spent by the 14th, about 17.6 a day after: over 400 by the 31st
    assert state(next(r for r in rows if r["budget"] == "payments-monthly")) == "forecast-over"


def test_team_page_burn_down_band_anomalies_and_explain(client: TestClient) -> None:
    html = client.get("/dashboards/teams/payments", headers=auth("payments")).text
    assert 'data-state="forecast-over"' in html
    burn = re.search(r'Plotly.newPlot\("burn-0", (\[.*?\]), ', html)
    assert burn is not None
    traces = json.loads(burn.group(1))
    band = [t for t in traces if t.get("fill") == "tonexty"]
    assert len(band) == 1 and band[0]["x"][-1] == "2026-10-31"
    assert "Recent anomalies and their root causes" in html
    assert 'id="explain-kinds"' in html and 'id="explain-rules"' in html
    assert "namespace-label:team" in html  # the rule that claimed its namespaces
