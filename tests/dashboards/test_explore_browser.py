"""Exploring the dashboards in a real headless Chromium, as finance, a team lead and platform.

``finops serve`` runs over the API tests' warehouse with labelled namespaces and list prices
above effective cost (``tests.support.api_warehouse.explore_warehouse``). Each control is
used as a person would (select, type, Enter) and must change both the URL and the numbers on
the page; a click on a bar drills down; a CSV download adds up to the API's total; the
keyboard reaches every control; nothing is fetched from outside 127.0.0.1 and the console
stays clean. Screenshots at 1440 and 390 px (light and dark) are kept in ``tests/artifacts/
screens/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.support import ServeProcess, warehouse_env
from tests.support.api_warehouse import LIST_UPLIFT, TOKENS, expected, explore_warehouse
from tests.support.browser import Watched, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "screens"
WIDE, PHONE = {"width": 1440, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = explore_warehouse(tmp_path_factory.mktemp("explore"))
    env = warehouse_env(settings)
    with ServeProcess(env, tmp_path_factory.mktemp("serve") / "serve.log") as served:
        yield served.base


@pytest.fixture
def watched(chromium: Browser) -> Iterator[Watched]:
    context = chromium.new_context(viewport=WIDE, accept_downloads=True)  # type: ignore[arg-type]
    try:
        yield Watched(context.new_page())
    finally:
        context.close()


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def kpi(page: Page) -> str:
    return page.locator(".kpi .value").first.inner_text()


def drawn(page: Page) -> None:
    page.locator("#explore .main-svg").first.wait_for()


def test_each_control_changes_the_url_and_the_numbers(server: str, watched: Watched) -> None:
    page = watched.page
    sign_in(page, server, TOKENS["finance"][0], "/dashboards/finance")
    drawn(page)
    assert kpi(page) == f"${expected():,.2f}"  # the default window: all 14 days
    seen = [kpi(page)]

    def changed(action: object, param: str, value: str) -> None:
        drawn(page)
        assert query(page).get(param) == [value], page.url
        now = kpi(page) + (page.locator("#explore ~ details.alt table").text_content() or "")
        assert now not in seen, f"{param}={value} changed nothing on the page"
        seen.append(now)

    with page.expect_navigation():
        page.select_option("#c-preset", "7d")
    changed(None, "preset", "7d")
    assert kpi(page) == f"${expected(day_from=expected_day(8)):,.2f}"
    with page.expect_navigation():
        page.select_option("#c-step", "week")
    changed(None, "step", "week")
    with page.expect_navigation():
        page.select_option("#c-group", "namespace")
    changed(None, "group", "namespace")
    assert "payments-api" in page.locator("#explore ~ details").inner_html()
    with page.expect_navigation():
        page.select_option("#c-metric", "list")
    changed(None, "metric", "list")
    shown = float(kpi(page).lstrip("$").replace(",", ""))
    assert shown == pytest.approx(LIST_UPLIFT * expected(day_from=expected_day(8)), abs=0.006)
    page.select_option("#c-fkey", "cluster")  # choosing the dimension does not submit...
    page.fill("#c-fvalue", "gke-prod")
    with page.expect_navigation():
        page.press("#c-fvalue", "Enter")  # ...the value does
    changed(None, "filter", 'cluster:"gke-prod"')
    assert not {"fkey", "fvalue", "start", "end"} & set(query(page))  # only the view
    assert page.locator(".chip").inner_text().startswith("cluster = gke-prod")
    with page.expect_navigation():
        page.select_option("#c-group", "label:cost-center")
    changed(None, "group", "label:cost-center")
    assert "cc-200" in page.locator("#explore ~ details").inner_html()
    page.fill("#c-start", "2026-10-02")
    assert page.input_value("#c-preset") == "custom"  # typing a day makes the range custom
    with page.expect_navigation():
        page.click("form.controls button[type=submit]")
    changed(None, "start", "2026-10-02")
    assert query(page)["preset"] == ["custom"] and query(page)["metric"] == ["list"]
    with page.expect_navigation():  # the state survives navigation
        page.click("header nav a:text('payments')")
    assert {k: query(page)[k] for k in ("preset", "start", "metric")} == {
        "preset": ["custom"], "start": ["2026-10-02"], "metric": ["list"]}
    assert watched.errors == [] and watched.outside(server) == []


def expected_day(n: int) -> object:
    from tests.support.api_warehouse import DAYS
    return DAYS[n - 1]


def click_bar(page: Page, card: str, trace: str) -> None:
    """Click the middle of the first bar of the trace named ``trace`` in ``card``."""
    page.locator(f"#{card} .main-svg").first.wait_for()
    index = page.evaluate(
        "([id, name]) => document.getElementById(id).data.findIndex(t => t.name === name)",
        [card, trace])
    assert index >= 0, f"no trace {trace!r} in #{card}"
    box = page.locator(f"#{card} .trace.bars").nth(index).locator(".point path").first \
        .bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    with page.expect_navigation():
        page.mouse.click(x, y)


def test_a_click_drills_down_and_breadcrumbs_lead_back(server: str, watched: Watched) -> None:
    page = watched.page
    sign_in(page, server, TOKENS["finance"][0], "/dashboards/finance?preset=mtd")
    click_bar(page, "explore", "payments")  # organisation -> team
    assert urlsplit(page.url).path == "/dashboards/teams/payments"
    assert query(page)["group"] == ["namespace"] and query(page)["preset"] == ["mtd"]
    click_bar(page, "explore", "payments-api")  # team -> namespace
    assert query(page)["filter"] == ['namespace:"payments-api"']
    assert query(page)["group"] == ["workload"]
    crumbs = page.locator("nav.crumbs li")
    assert crumbs.all_inner_texts() == ["Organisation", "team payments", "namespace payments-api"]
    with page.expect_navigation():
        page.click("nav.crumbs a:text('team payments')")
    assert "filter" not in query(page) and query(page)["group"] == ["namespace"]
    with page.expect_navigation():
        page.click("nav.crumbs a:text('Organisation')")
    assert urlsplit(page.url).path == "/dashboards/finance" and query(page)["group"] == ["team"]
    # the account -> service -> resource path, by keyboard through the data table's links
    page.goto(f"{server}/dashboards/finance?preset=mtd&group=sub_account")
    page.click("#explore ~ details summary")
    page.focus(f"#explore ~ details a[href*='{'gcp-ba'}']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert query(page)["filter"] == ['sub_account:"gcp-ba"'] and query(page)["group"] == [
        "service"]
    assert watched.errors == [] and watched.outside(server) == []


def test_csv_download_adds_up_to_the_api(server: str, watched: Watched,
                                         tmp_path: Path) -> None:
    page = watched.page
    sign_in(page, server, TOKENS["payments"][0], "/dashboards/teams/payments?preset=7d")
    drawn(page)
    with page.expect_download() as download:
        page.click("#explore ~ .downloads a:text('CSV')")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with path.open() as f:
        rows = list(csv.DictReader(f))
    total = round(sum(float(r["effective_cost"]) for r in rows), 2)
    api = httpx.get(f"{server}/api/allocation", params={
        "start": "2026-10-08", "end": "2026-10-14", "filter": 'team:"payments"'},
        headers={"Authorization": f"Bearer {TOKENS['payments'][0]}"}).json()
    assert total == api["total_effective_cost"] == round(
        expected(day_from=expected_day(8), team="payments"), 2)
    assert kpi(page) == f"${total:,.2f}"  # the page's own figure
    assert {r["currency"] for r in rows} == {"USD"}


def test_the_keyboard_reaches_every_control(server: str, watched: Watched) -> None:
    page = watched.page
    sign_in(page, server, TOKENS["platform"][0], "/dashboards/finance")
    drawn(page)
    reached: list[str] = []
    for _ in range(45):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(
            "() => { const e = document.activeElement; return e.id || e.className || "
            "e.textContent.trim().slice(0, 20); }"))
    assert reached[0] == "skip"  # the first stop skips to the charts
    for control in ("c-preset", "c-start", "c-end", "c-step", "c-group", "c-metric",
                    "c-fkey", "c-fvalue", "c-filter"):
        assert control in reached, reached
    assert "Apply" in reached and "Sign out" in reached
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus can be seen


PAGES = {"finance": "/dashboards/finance", "team": "/dashboards/teams/payments",
         "unowned": "/dashboards/unowned"}


@pytest.mark.parametrize(("size", "scheme"), [(WIDE, "light"), (PHONE, "light"),
                                              (PHONE, "dark")], ids=["1440", "390", "390-dark"])
def test_any_screen_light_and_dark(server: str, chromium: Browser, size: dict[str, int],
                                   scheme: str) -> None:
    """Every page at this size and scheme (one platform session): no overflow, one column on
    a phone, the scheme's colours, named charts each with a data table; a screenshot kept."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport=size, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        watched = Watched(context.new_page())
        page = watched.page
        sign_in(page, server, TOKENS["platform"][0], PAGES["finance"])
        for name, path in PAGES.items():
            if name != "finance":
                page.goto(f"{server}{path}")
            page.locator(".main-svg").first.wait_for()
            page.wait_for_timeout(200)  # plotly's responsive relayout
            png = ARTIFACTS / f"{name}-{size['width']}-{scheme}.png"
            page.screenshot(path=str(png), full_page=True)
            assert png.stat().st_size > 20_000
            looks_right(page, size, scheme)
        assert watched.errors == [] and watched.outside(server) == []
    finally:
        context.close()


def looks_right(page: Page, size: dict[str, int], scheme: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    columns = page.evaluate("getComputedStyle(document.querySelector('main'))"
                            ".gridTemplateColumns").split()
    assert len(columns) == (1 if size is PHONE else 2)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(13, 17, 23)" if scheme == "dark" else "rgb(246, 248, 250)")
    assert page.locator('meta[name="viewport"]').count() == 1
    charts = page.locator(".plotly-graph-div")
    for chart in charts.all():
        assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-label")
    assert page.locator("details.alt table caption").count() == charts.count() > 0
