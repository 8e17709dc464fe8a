"""The actionable pages in headless Chromium (``finops serve`` in a subprocess): the unowned
items table sorts, filters and pages by clicks and the form, keyboard-only; team leads see
their places; the efficiency and team pages draw; nothing fails in the console and no
request leaves 127.0.0.1. Screenshots at 1440 and 390 px go to pytest's temp dir (and to
``$SCREENSHOT_DIR`` when set)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page

from tests.support import ServeProcess, warehouse_env
from tests.support.api_warehouse import TOKENS, build
from tests.support.browser import Watched, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = build(tmp_path_factory.mktemp("act"))
    env = warehouse_env(settings)
    with ServeProcess(env, tmp_path_factory.mktemp("serve") / "serve.log") as served:
        yield served.base


def open_page(chromium: Browser, width: int) -> Page:
    return chromium.new_context(viewport={"width": width, "height": 900}).new_page()


def shot(page: Page, tmp_path: Path, name: str) -> None:
    png = tmp_path / f"{name}.png"
    page.screenshot(path=str(png), full_page=True)
    keep = os.environ.get("SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / png.name)
    assert png.stat().st_size > 20_000


def costs(page: Page) -> list[str]:
    return page.locator("#unowned-items tbody tr td:first-child").all_inner_texts()


def test_sort_filter_and_pages_by_mouse_and_keyboard(server: str, chromium: Browser,
                                                     tmp_path: Path) -> None:
    page = open_page(chromium, 1440)
    watched = Watched(page)
    sign_in(page, server, TOKENS["platform"][0], "/dashboards/unowned?start=2026-10-01")
    first = costs(page)
    assert len(first) == 3 and first[0].startswith("$")
    with page.expect_navigation():
        page.click("#unowned-items th a:has-text('unowned')")  # sorted by cost: flip it
    assert costs(page) == list(reversed(first))
    query = parse_qs(urlsplit(page.url).query)
    assert query["order"] == ["asc"] and query["start"] == ["2026-10-01"]
    page.select_option("select[name=per_page]", "25")
    page.fill("input[name=q]", "bucket")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=bucket**")
    assert page.locator("#unowned-items code.id", has_text="bucket-logs").count() == 1
    assert len(costs(page)) == 1
    shot(page, tmp_path, "act-unowned-1440")
    page.goto(f"{server}/dashboards/unowned?per_page=1")
    for _ in range(60):  # Tab until the "next" page link has the focus, then Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.rel") == "next":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "page=2" in page.url and "page 2 of 3" in page.inner_text("nav.pages")
    watched.check(server)
    page.context.close()


def test_team_lead_phone_width(server: str, chromium: Browser, tmp_path: Path) -> None:
    page = open_page(chromium, 390)
    watched = Watched(page)
    sign_in(page, server, TOKENS["search"][0], "/dashboards/unowned")
    assert page.locator("#unowned-items tbody tr").count() == 1
    assert "bucket-logs" in page.inner_text("#unowned-items")
    shot(page, tmp_path, "act-unowned-search-390")
    watched.check(server)
    page.context.close()


@pytest.mark.parametrize(("path", "role", "width", "drawn"), [
    ("/dashboards/efficiency", "platform", 1440, 0),
    ("/dashboards/teams/payments", "payments", 1440, 4),
    ("/dashboards/teams/payments", "payments", 390, 4),
])
def test_pages_draw(server: str, chromium: Browser, tmp_path: Path, path: str, role: str,
                    width: int, drawn: int) -> None:
    page = open_page(chromium, width)
    watched = Watched(page)
    sign_in(page, server, TOKENS[role][0], path)
    if drawn:
        page.locator(".plot-container").nth(drawn - 1).wait_for()
        assert page.locator("#burn-0 .main-svg").count() >= 1
        assert page.locator("[data-state=forecast-over]").count() == 1
        assert page.locator("#explain-kinds").is_visible()
    else:
        assert "No workload requests more than" in page.inner_text("main")
    shot(page, tmp_path, f"act-{path.rsplit('/', 1)[-1]}-{width}")
    watched.check(server)
    page.context.close()
