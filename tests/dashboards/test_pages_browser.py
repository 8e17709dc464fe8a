"""The dashboards in a real browser: ``finops serve`` in a subprocess, headless Chromium.

A person signs in once (the form at ``/signin``; the session cookie does the rest), opens
each page, and plotly.js (served by the API from the installed plotly package; no network
is needed) draws every figure: a rendered figure leaves ``.plot-container`` and
``.main-svg`` elements behind. A screenshot of each page is written next to the test's temp
dir (and to ``$SCREENSHOT_DIR`` when set) for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from finops.api import assets
from finops.settings import Settings
from tests.support import ServeProcess, warehouse_env
from tests.support.browser import sign_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``finops serve`` as a user would start it, on a free port; yields its base URL."""
    env = warehouse_env(settings)
    with ServeProcess(env, tmp_path_factory.mktemp("serve") / "serve.log") as served:
        yield served.base


def screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    png = tmp_path / f"{name}.png"
    page.screenshot(path=str(png), full_page=True)
    keep = os.environ.get("SCREENSHOT_DIR")  # a folder to keep screenshots for review
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / png.name)
    return png


@pytest.mark.parametrize(("name", "path", "role", "figures"), [
    ("finance", "/dashboards/finance", "finance", 5),
    ("team", "/dashboards/teams/payments", "payments", 5),
    ("unowned", "/dashboards/unowned", "platform", 2),
])  # the figures plotly draws (tables are HTML tables)
def test_page_renders_plotly_figures(server: str, token: dict[str, str], browser_page: Page,
                                     tmp_path: Path, name: str, path: str, role: str,
                                     figures: int) -> None:
    sign_in(browser_page, server, token[role], path)
    assert browser_page.url == f"{server}{path}"
    containers = browser_page.locator(".plot-container")
    containers.nth(figures - 1).wait_for()
    assert containers.count() == figures
    assert browser_page.locator(".main-svg").count() >= figures
    assert "data through 2026-10-14" in browser_page.inner_text("header")
    assert screenshot(browser_page, tmp_path, name).stat().st_size > 20_000  # blank: a few KB


def test_team_session_cannot_open_finance_page(server: str, token: dict[str, str],
                                               browser_page: Page) -> None:
    sign_in(browser_page, server, token["payments"], "/dashboards/finance")
    assert browser_page.url == f"{server}/dashboards/finance"
    assert browser_page.title() == "403 Not allowed · finops"  # a page, not raw JSON
    assert "organisation-wide" in browser_page.inner_text("main")
    assert browser_page.locator(".plot-container").count() == 0


def test_navigation_links_work_with_the_session(server: str, token: dict[str, str],
                                                browser_page: Page) -> None:
    sign_in(browser_page, server, token["finance"], "/dashboards/finance")
    with browser_page.expect_navigation():
        browser_page.click("header a[href='/dashboards/teams/search']")
    assert browser_page.url == f"{server}/dashboards/teams/search"
    assert browser_page.title() == "Team search · finops"


@pytest.mark.parametrize(("name", "path", "role"), [
    ("finance", "/dashboards/finance", "finance"),
    ("team", "/dashboards/teams/payments", "payments"),
    ("unowned", "/dashboards/unowned", "platform"),
])
def test_pages_send_nothing_off_the_machine(server: str, token: dict[str, str],
                                            browser_page: Page, name: str, path: str,
                                            role: str) -> None:
    requested: list[str] = []
    browser_page.on("request", lambda request: requested.append(request.url))
    sign_in(browser_page, server, token[role], path)
    browser_page.locator(".plot-container").first.wait_for()
    assert {f"{server}{src}" for src in assets.page_scripts()} <= set(requested)
    assert [url for url in requested if not url.startswith(f"{server}/")] == []
    html = browser_page.content()
    titles = set(re.findall(r'class="modebar-btn[^"]*"[^>]*data-title="([^"]*)"', html))
    assert "Download plot as a PNG" in titles  # the mode bar is there...
    assert not {t for t in titles if "Share" in t or "Plotly" in t or "Cloud" in t}  # ...without
    assert "plotly.com" not in html and "modebar-btn--logo" not in html
