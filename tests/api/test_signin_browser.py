"""Sign-in end to end: a real ``finops serve``, headless Chromium (Playwright), and the link a
Slack alert carries, clicked from a page on another site.

The server trusts 127.0.0.1 as its proxy (an SSO sidecar on the same host): the browser
connects from there, so an ``X-Forwarded-Proto: https`` it sends is believed; httpx clients
bound to 127.0.0.2 stand for anyone else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import yaml
from playwright.sync_api import Page, Request, expect

from finops.alerts import team_url
from finops.settings import ApiSettings, Settings
from tests.support import ServeProcess, free_port
from tests.support.api_warehouse import TOKENS
from tests.support.browser import link_page, sign_in

pytestmark = pytest.mark.integration
TTL_S = 3600
OTHER_ADDRESS = "127.0.0.2"


class Served:
    def __init__(self, base: str, log: Path) -> None:
        self.base, self.log = base, log

    @property
    def alert_link(self) -> str:
        """The "Open team dashboard" link of a payments alert (``FINOPS_API__PUBLIC_URL``)."""
        public = Settings(api=ApiSettings(public_url=self.base))  # type: ignore[call-arg]
        return team_url(public, "payments")


@pytest.fixture(scope="module")
def served(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("signin")
    config = yaml.safe_load(settings.config.read_text())
    config["sso"] = {"groups": {"finops-finance": "finance", "team-payments": "team:payments"}}
    (directory / "finops.yaml").write_text(yaml.safe_dump(config))
    port = free_port()
    env = {"FINOPS_DB": str(settings.db), "FINOPS_CONFIG": str(directory / "finops.yaml"),
           "FINOPS_API__PUBLIC_URL": f"http://127.0.0.1:{port}",
           "FINOPS_AUTH__SESSION_TTL_S": str(TTL_S), "FINOPS_AUTH__TRUSTED_PROXIES": "127.0.0.1"}
    with ServeProcess(env, directory / "serve.log", port=port) as server:
        yield Served(server.base, server.log)


@pytest.fixture
def page(browser_page: Page) -> Page:
    """A fresh page that skips plotly.js (3.6 MB; the charts are test_pages_browser's).

    Blocked through the DevTools protocol, not ``page.route``: intercepted requests report
    no ``Sec-Fetch-*`` headers, which these tests read."""
    devtools = browser_page.context.new_cdp_session(browser_page)
    devtools.send("Network.enable")
    devtools.send("Network.setBlockedURLs", {"urls": ["*/plotly-*.min.js"]})
    return browser_page


def navigations(page: Page) -> list[Request]:
    seen: list[Request] = []
    page.on("request", lambda r: seen.append(r) if r.is_navigation_request() else None)
    return seen


def open_from_slack(page: Page, link: str) -> None:
    with link_page("slack", link) as slack_url:
        page.goto(slack_url)
        with page.expect_navigation(url=lambda url: "slack.test" not in url):
            page.click("a#link")
        page.wait_for_load_state()


def wait_for_team_page(page: Page, link: str) -> None:
    page.wait_for_url(link)
    expect(page).to_have_title("Team payments · finops")  # not the bounce page, same URL
    assert page.locator('div.plotly-graph-div[id="cost-kind"]').count() == 1


def test_alert_link_signed_out_signs_in_and_lands_on_the_page(served: Served,
                                                              page: Page) -> None:
    link, token = served.alert_link, TOKENS["payments"][0]
    seen = navigations(page)
    open_from_slack(page, link)
    page.wait_for_url("**/signin?next=*")
    assert page.url == f"{served.base}/signin?next={quote('/dashboards/team/payments', safe='')}"
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    wait_for_team_page(page, link)
    assert all(token not in request.url for request in seen)  # the token never was in a URL
    [cookie] = page.context.cookies()
    assert cookie["name"] == "finops_session" and token not in cookie["value"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
    assert cookie["expires"] == pytest.approx(time.time() + TTL_S, abs=60)
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read it


def test_alert_link_while_signed_in_lands_on_the_page(served: Served,
                                                      page: Page) -> None:
    link = served.alert_link
    sign_in(page, served.base, TOKENS["payments"][0])
    seen = navigations(page)
    open_from_slack(page, link)
    wait_for_team_page(page, link)
    to_link = [r for r in seen if r.url == link]
    # Slack's click arrives without the Strict cookie; our bounce page asks again, with it
    assert [r.all_headers().get("sec-fetch-site") for r in to_link] == [
        "cross-site", "same-origin"]
    assert "cookie" not in to_link[0].all_headers()
    assert "finops_session=" in to_link[1].all_headers()["cookie"]
    assert not any("/signin" in r.url for r in seen)


def test_sign_out_then_the_page_asks_to_sign_in_again(served: Served,
                                                      page: Page) -> None:
    link = served.alert_link
    sign_in(page, served.base, TOKENS["payments"][0], "/dashboards/team/payments")
    wait_for_team_page(page, link)
    [cookie] = page.context.cookies()
    with page.expect_navigation():
        page.click("form.signout button")
    page.wait_for_url("**/signin?*reason=signed-out*")
    assert "You are signed out." in page.inner_text("main")
    assert page.context.cookies() == []
    page.goto(link)
    page.wait_for_url("**/signin?next=*")
    assert page.locator("input[name=token]").is_visible()
    replayed = httpx.get(link, headers={"Cookie": f"finops_session={cookie['value']}",
                                        "Accept": "text/html"}, timeout=30)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/signin?")


def test_cookie_is_secure_behind_a_trusted_https_proxy(served: Served,
                                                       page: Page) -> None:
    page.context.set_extra_http_headers({"X-Forwarded-Proto": "https"})
    page.goto(f"{served.base}/signin?token={TOKENS['finance'][0]}&next=/dashboards/finance")
    page.wait_for_url(f"{served.base}/dashboards/finance")
    [cookie] = page.context.cookies()
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    untrusted = client_from(OTHER_ADDRESS).post(
        f"{served.base}/signin", data={"token": TOKENS["finance"][0]},
        headers={"X-Forwarded-Proto": "https"})
    assert untrusted.status_code == 303
    assert "secure" not in untrusted.headers["set-cookie"].lower()


def client_from(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def test_sso_headers_are_honoured_only_from_the_trusted_address(served: Served) -> None:
    headers = {"X-Forwarded-User": "ada@example.com", "X-Forwarded-Groups": "staff,team-payments"}
    trusted = client_from("127.0.0.1").get(f"{served.base}/api/teams", headers=headers)
    assert trusted.status_code == 200
    assert [t["team"] for t in trusted.json()["teams"]] == ["payments"]
    other = client_from(OTHER_ADDRESS).get(f"{served.base}/api/teams", headers=headers)
    assert other.status_code == 401


def test_access_log_has_no_token_in_any_encoding(served: Served) -> None:
    secret = TOKENS["platform"][0]
    hex_encoded = "".join(f"%{ord(c):02X}" for c in secret)
    sent = [f"/signin?token={secret}&next=/dashboards/", f"/api/teams?%74oken={hex_encoded}",
            f"/api/teams?TOKEN={secret}", f"/api/teams?next=%2F%3Ftoken%3D{secret}",
            f"/api/teams?%2574oken={quote(quote(secret))}",
            f"/dashboards/finance?a=1;token={secret}"]
    with httpx.Client(base_url=served.base, timeout=30) as client:
        for target in sent:
            client.get(target, headers={"Referer": f"https://chat.example/?token={secret}"})
        client.get("/healthz?done=1")
    deadline = time.monotonic() + 10  # access lines may reach the file a moment later
    while "/healthz?done=1" not in served.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    log = served.log.read_text()
    for form in {secret, hex_encoded, quote(quote(secret)), secret.upper()}:
        assert form not in log
    assert "/signin?***" in log and "/api/teams?***" in log and "/api/teams?TOKEN=***" in log
