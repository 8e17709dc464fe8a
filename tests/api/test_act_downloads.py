"""The efficiency page's tables and the unowned items offer their rows as files, on the demo:
``/api/savings`` and ``/api/efficiency`` with ``format=csv|parquet`` hold what the JSON holds
(totals equal), scoped like it; the efficiency page has the window control and the links."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.demo import DEMO_CONFIG
from finops.settings import Settings

pytestmark = pytest.mark.integration
WINDOW = {"start": "2026-10-01", "end": "2026-10-31"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer demo-{token}"}


@pytest.fixture(scope="module")
def demo(demo_db: Path) -> Iterator[TestClient]:
    settings = Settings(db=demo_db.with_name("finops.duckdb"), config=DEMO_CONFIG)
    with TestClient(create_app(settings)) as client:
        yield client


def csv(client: TestClient, url: str, token: str) -> pl.DataFrame:
    response = client.get(url, params={**WINDOW, "format": "csv"}, headers=auth(token))
    assert response.status_code == 200, response.text
    return pl.read_csv(io.BytesIO(response.content))


def test_savings_file_equals_the_json(demo: TestClient) -> None:
    body = demo.get("/api/savings", params=WINDOW, headers=auth("finance")).json()
    frame = csv(demo, "/api/savings", "finance")
    assert frame.height == len(body["workloads"]) > 0
    assert round(frame["monthly_saving"].sum(), 2) == round(body["monthly_saving"], 2)
    search = csv(demo, "/api/savings", "team-search")
    assert search.height and set(search["team"].to_list()) == {"search"}


def test_node_pool_file_equals_the_json_and_is_organisation_only(demo: TestClient) -> None:
    body = demo.get("/api/efficiency", params=WINDOW, headers=auth("platform")).json()
    frame = csv(demo, "/api/efficiency", "platform")
    assert frame.height == len(body["node_pools"]) > 0
    assert round(frame["idle_effective_cost"].sum(), 2) == round(
        sum(p["idle_effective_cost"] for p in body["node_pools"]), 2)
    refused = demo.get("/api/efficiency", params={**WINDOW, "format": "csv"},
                       headers=auth("team-search"))
    assert refused.status_code == 403


def test_the_pages_link_their_tables_files_and_keep_the_window(demo: TestClient) -> None:
    html = demo.get("/dashboards/efficiency", params=WINDOW, headers=auth("platform")).text
    assert "/api/savings?start=2026-10-01&amp;end=2026-10-31&amp;format=csv" in html
    assert "/api/efficiency?start=2026-10-01&amp;end=2026-10-31&amp;format=parquet" in html
    assert 'type="date" name="start" value="2026-10-01"' in html  # the window control
    unowned = demo.get("/dashboards/unowned", params=WINDOW, headers=auth("platform")).text
    assert "/api/unowned/items?start=2026-10-01&amp;end=2026-10-31&amp;sort=cost" in unowned


PAGES = [("finance", "/dashboards/finance"), ("finance", "/dashboards/teams/payments"),
         ("platform", "/dashboards/unowned"), ("team-search", "/dashboards/unowned"),
         ("platform", "/dashboards/efficiency"), ("team-payments", "/dashboards/teams/payments"),
         ("platform", "/dashboards/governance"), ("team-payments", "/dashboards/governance")]


def cards_without_files(html: str) -> list[str]:
    sections = re.findall(r'<section class="card[^"]*">(.*?)</section>', html, flags=re.S)
    return [s[:80] for s in sections if ("<table" in s or "plotly-graph-div" in s)
            and 'class="downloads"' not in s]


@pytest.mark.parametrize(("token", "path"), PAGES)
def test_every_chart_and_table_offers_its_rows_and_the_links_answer(
        demo: TestClient, token: str, path: str) -> None:
    html = demo.get(path, params=WINDOW, headers=auth(token)).text
    assert cards_without_files(html) == []
    links = sorted(set(re.findall(r'href="([^"]+format=csv)"', html)))
    assert links
    for link in links:
        response = demo.get(unescape(link), headers=auth(token))
        assert response.status_code == 200, (link, response.text[:200])
        assert response.headers["content-type"].startswith("text/csv")
