"""Dashboard pages over HTTP (TestClient): the right figures, local plotly.js, scoping."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import plotly
import plotly.io as pio
import polars as pl
import pytest
from fastapi.testclient import TestClient

from dashboards import figures, pages
from finops.api import assets


def figure_ids(html: str) -> list[str]:
    return re.findall(r'<div id="([\w-]+)" class="plotly-graph-div"', html)


@pytest.mark.integration
def test_plotly_js_comes_from_the_installed_package(client: TestClient) -> None:
    path = assets.plotly_js().path
    bundled = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert re.fullmatch(r"/dashboards/static/plotly-[0-9a-f]{16}\.min\.js", path)
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) < len(bundled) // 2  # sent compressed
    assert response.content == bundled  # (httpx decompresses)


@pytest.mark.integration
def test_static_files_are_plain_without_gzip_and_unknown_names_are_404(
        client: TestClient) -> None:
    theme = assets.theme_js()
    plain = client.get(theme.path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == pages.theme_script().encode() and b"FINOPS_TEMPLATE" in plain.content
    assert gzip.decompress(theme.gzipped) == theme.body
    wrong = client.get("/dashboards/static/plotly-0000000000000000.min.js")
    assert wrong.status_code == 404 and wrong.json()["status"] == 404
    old = client.get("/dashboards/static/plotly.min.js", follow_redirects=False)
    assert old.status_code == 308 and old.headers["location"] == assets.plotly_js().path


def test_the_theme_is_plotlys_template() -> None:
    text = pages.theme_script()
    prefix = "window.FINOPS_TEMPLATE = "
    first = text.split("\n", 1)[0]  # the template; the dark-mode and drill helpers follow
    template = json.loads(first.removeprefix(prefix).rstrip().rstrip(";"))
    assert "prefers-color-scheme: dark" in text and "plotly_click" in text
    expected = pio.templates[pages.THEME].to_plotly_json()
    assert template == json.loads(pio.json.to_json_plotly(expected))
    assert template["layout"]["plot_bgcolor"] == "white"  # plotly_white, not the default


def test_figure_json_cannot_close_the_script() -> None:
    fig = figures.by_name_bar(pl_frame("</script><script>alert(1)</script>"), "Top")
    html = pages.figure_div(fig, "top")
    assert html.count("</script>") == 1 and "alert(1)" in html
    assert "<script>alert" not in html


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.integration
def test_finance_overview(client: TestClient, token: dict[str, str]) -> None:
    response = client.get("/dashboards/finance", headers=bearer(token["finance"]))
    assert response.status_code == 200
    html = response.text
    for src in assets.page_scripts():
        assert f'<script src="{src}"></script>' in html
    assert "cdn" not in html.lower()
    assert figure_ids(html) == ["explore", "budgets", "allocated-kpi", "allocated-trend",
                                "unowned-by-reason"]
    assert '<section class="card" id="top-movers">' in html  # a table, drawn as <table>
    assert "data through 2026-10-14" in html
    assert "83.5 %" in html  # the % allocated KPI tile
    assert "3 / 4" in html  # namespaces with a team on the last day (label_coverage)
    # links never carry a token (the browser holds a session cookie instead)
    assert 'href="/dashboards/teams/payments"' in html and "token=" not in html
    assert '<form method="post" action="/signout"' in html


@pytest.mark.integration
def test_team_page(client: TestClient, token: dict[str, str]) -> None:
    html = client.get("/dashboards/teams/payments", headers=bearer(token["payments"])).text
    assert figure_ids(html) == ["explore", "cost-kind", "namespaces", "services", "burn-0"]
    assert "payments-api" in html and "Budget burn-down: payments-monthly" in html


@pytest.mark.integration
def test_team_alias_path_used_by_slack_links(client: TestClient, token: dict[str, str]) -> None:
    response = client.get("/dashboards/team/search", headers=bearer(token["search"]))
    assert response.status_code == 200 and "Team search" in response.text


@pytest.mark.integration
def test_unowned_page(client: TestClient, token: dict[str, str]) -> None:
    html = client.get("/dashboards/unowned", headers=bearer(token["platform"])).text
    assert figure_ids(html) == ["unowned-by-reason", "unowned-daily"]
    assert "bucket-logs" in html and "no-team-label" in html
    assert 'id="unowned-items"' in html  # the actionable table (tests/dashboards/test_act_pages.py)


@pytest.mark.integration
def test_home_redirects_by_role(client: TestClient, token: dict[str, str]) -> None:
    response = client.get("/dashboards/", headers=bearer(token["finance"]),
                          follow_redirects=False)
    assert response.headers["location"] == "/dashboards/finance"


@pytest.mark.integration
def test_query_token_is_refused_not_used(client: TestClient, token: dict[str, str]) -> None:
    response = client.get("/dashboards/finance", params={"token": token["finance"]})
    assert response.status_code == 400 and response.json()["ok"] is False
    assert "not accepted in URLs" in response.json()["error"]


def test_page_escapes_text() -> None:
    html = pages.page("<script>x</script>", [pages.kpis([("a&b", "<1>")])], [("t", "/x?a=1&b=2")],
                      None)
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "a&amp;b" in html and "&lt;1&gt;" in html and "/x?a=1&amp;b=2" in html


def pl_frame(name: str) -> pl.DataFrame:
    return pl.DataFrame({"name": [name], "effective_cost": [1.0]})
