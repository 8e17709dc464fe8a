"""Sign-in over HTTP (TestClient): pages for browsers, JSON for API clients, cookies, CSRF,
open redirects, URL tokens, trusted proxies and SSO headers. The real-browser flow is in
test_signin_browser.py."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st

from finops.api import create_app
from finops.settings import AuthSettings, Settings
from models.config import FinOpsConfig, Sso, load_config
from tests.support.api_warehouse import TOKENS, auth

pytestmark = pytest.mark.integration

PAGE = {"Accept": "text/html,application/xhtml+xml"}
SAME_ORIGIN = {"Origin": "http://testserver"}
PROXY = ("10.0.0.5", 40000)
SSO = Sso(groups={"finops-finance": "finance", "team-payments": "team:payments",
                  "team-search": "team:search"})


def token(name: str) -> str:
    return TOKENS[name][0]


def build(settings: Settings, *, config: FinOpsConfig | None = None,
          client: tuple[str, int] = ("testclient", 50000), secret: str | None = "k" * 32,
          ) -> TestClient:
    auth_settings = AuthSettings(session_secret=secret, trusted_proxies=["10.0.0.0/24"])
    configured = settings.model_copy(update={"auth": auth_settings})
    base = config or load_config(settings.config)
    app = create_app(configured, config=base.model_copy(update={"sso": SSO}))
    return TestClient(app, client=client)


@pytest.fixture(scope="module")
def browser(settings: Settings) -> Iterator[TestClient]:
    with build(settings) as test_client:
        yield test_client


@pytest.fixture
def fresh(settings: Settings) -> Iterator[TestClient]:
    """A client with an empty cookie jar."""
    with build(settings) as test_client:
        yield test_client


def sign_in(client: TestClient, name: str, next_path: str = "/dashboards/") -> str:
    response = client.post("/signin", data={"token": token(name), "next": next_path},
                           headers=SAME_ORIGIN, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.cookies["finops_session"]


def session(cookie: str) -> dict[str, str]:
    """The cookie sent by hand, as a client that kept it after signing out would."""
    return {"Cookie": f"finops_session={cookie}"}


def location(response: object) -> str:
    return str(response.headers["location"])  # type: ignore[attr-defined]


# -- signed out ----------------------------------------------------------------------------

def test_a_browser_is_sent_to_sign_in_remembering_the_page(browser: TestClient) -> None:
    response = browser.get("/dashboards/team/payments?start=2026-10-01", headers=PAGE,
                           follow_redirects=False)
    assert response.status_code == 303
    target = urlsplit(location(response))
    assert target.path == "/signin"
    assert parse_qs(target.query) == {"next": ["/dashboards/team/payments?start=2026-10-01"]}
    page = browser.get(location(response), headers=PAGE)
    assert page.status_code == 200 and 'name="token" type="password"' in page.text
    assert 'value="/dashboards/team/payments?start=2026-10-01"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "same-origin"  # no-referrer: POST gets Origin null
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize("headers", [{}, {"Accept": "application/json"},
                                     {**PAGE, "Authorization": "Bearer nope"}])
def test_api_clients_keep_the_json_401(browser: TestClient, headers: dict[str, str]) -> None:
    for path in ("/api/teams", "/dashboards/finance"):
        response = browser.get(path, headers=headers, follow_redirects=False)
        assert response.status_code == 401
        assert response.json()["ok"] is False and response.json()["status"] == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_cross_site_navigation_gets_the_bounce_page(browser: TestClient) -> None:
    response = browser.get("/dashboards/team/payments", follow_redirects=False,
                           headers={**PAGE, "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="0">' in response.text
    assert "<script" not in response.text and response.headers["cache-control"] == "no-store"


# -- signing in ----------------------------------------------------------------------------

def test_signing_in_sets_a_strict_http_only_cookie_and_opens_next(fresh: TestClient) -> None:
    response = fresh.post("/signin", headers=SAME_ORIGIN, follow_redirects=False,
                          data={"token": token("payments"), "next": "/dashboards/team/payments"})
    assert response.status_code == 303 and location(response) == "/dashboards/team/payments"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("finops_session=")
    for flag in ("HttpOnly", "SameSite=strict", "Max-Age=43200", "Path=/"):
        assert flag.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # plain http, no trusted proxy
    assert token("payments") not in cookie
    page = fresh.get("/dashboards/team/payments", headers=PAGE)
    assert page.status_code == 200 and "Team payments" in page.text


def test_a_wrong_token_shows_the_form_again(fresh: TestClient) -> None:
    response = fresh.post("/signin", data={"token": "guess", "next": "/dashboards/finance"},
                          headers=SAME_ORIGIN)
    assert response.status_code == 401 and "That token was not accepted." in response.text
    assert "set-cookie" not in response.headers
    assert 'value="/dashboards/finance"' in response.text


@pytest.mark.parametrize("bad", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "evil.example", "/\tevil", "/x\r\nSet-Cookie: a=b",
    "/signin?next=//evil.example", "/signout", "", "/" + "a" * 3000,
])
def test_next_never_leaves_the_site(fresh: TestClient, bad: str) -> None:
    response = fresh.post("/signin", data={"token": token("finance"), "next": bad},
                          headers=SAME_ORIGIN, follow_redirects=False)
    assert response.status_code == 303 and location(response) == "/dashboards/"


def test_next_keeps_the_query_but_drops_tokens(fresh: TestClient) -> None:
    response = fresh.post("/signin", headers=SAME_ORIGIN, follow_redirects=False, data={
        "token": token("finance"), "next": "/dashboards/finance?start=2026-10-02&token=x"})
    assert location(response) == "/dashboards/finance?start=2026-10-02"


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}])
def test_cross_site_posts_are_refused(fresh: TestClient, headers: dict[str, str]) -> None:
    response = fresh.post("/signin", data={"token": token("finance")}, headers=headers)
    assert response.status_code == 403 and response.json()["ok"] is False
    assert "set-cookie" not in response.headers


def test_the_public_url_is_an_accepted_origin(fresh: TestClient) -> None:
    response = fresh.post("/signin", data={"token": token("finance")}, follow_redirects=False,
                          headers={"Origin": "http://127.0.0.1:8000"})  # FINOPS_API__PUBLIC_URL
    assert response.status_code == 303


def test_a_sign_in_link_is_exchanged_and_the_token_leaves_the_url(fresh: TestClient) -> None:
    response = fresh.get("/signin", follow_redirects=False, headers=PAGE,
                         params={"token": token("finance"), "next": "/dashboards/finance"})
    assert response.status_code == 303 and location(response) == "/dashboards/finance"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "finops_session=" in response.headers["set-cookie"]
    assert fresh.get("/dashboards/finance", headers=PAGE).status_code == 200


@pytest.mark.parametrize(("value", "headers", "reason"), [
    ("guess", {}, "invalid"),
    (TOKENS["finance"][0], {"Sec-Fetch-Site": "cross-site"}, "link"),  # from another site
])
def test_a_refused_sign_in_link_sets_nothing(fresh: TestClient, value: str,
                                             headers: dict[str, str], reason: str) -> None:
    response = fresh.get("/signin", params={"token": value, "next": "/dashboards/finance"},
                         headers={**PAGE, **headers}, follow_redirects=False)
    assert response.status_code == 303 and "set-cookie" not in response.headers
    assert value not in location(response)
    assert parse_qs(urlsplit(location(response)).query) == {
        "next": ["/dashboards/finance"], "reason": [reason]}


def test_signed_in_people_skip_the_form(fresh: TestClient) -> None:
    sign_in(fresh, "finance")
    response = fresh.get("/signin?next=/dashboards/unowned", follow_redirects=False)
    assert response.status_code == 303 and location(response) == "/dashboards/unowned"


# -- using and ending a session ------------------------------------------------------------

def test_a_session_opens_the_api_too(fresh: TestClient) -> None:
    sign_in(fresh, "payments")
    assert fresh.get("/api/teams/payments").status_code == 200
    assert fresh.get("/api/teams/search").status_code == 403  # still that team only


def test_posts_with_a_session_need_our_origin(fresh: TestClient) -> None:
    sign_in(fresh, "platform")
    body = {"sql": "select 1 as one"}
    assert fresh.post("/api/sql", json=body, headers=SAME_ORIGIN).status_code == 200
    refused = fresh.post("/api/sql", json=body, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403


def test_signing_out_revokes_the_session_on_the_server(fresh: TestClient) -> None:
    cookie = sign_in(fresh, "finance")
    assert fresh.post("/signout", headers={"Origin": "https://evil.example"}).status_code == 403
    response = fresh.post("/signout", headers=SAME_ORIGIN, follow_redirects=False)
    assert response.status_code == 303 and "reason=signed-out" in location(response)
    assert 'finops_session=""' in response.headers["set-cookie"]
    assert "max-age=0" in response.headers["set-cookie"].lower()
    fresh.cookies.clear()
    replayed = fresh.get("/dashboards/finance", headers={**PAGE, **session(cookie)},
                         follow_redirects=False)
    assert replayed.status_code == 303 and location(replayed).startswith("/signin?")
    assert "finops_session=" in replayed.headers["set-cookie"]  # the dead cookie is dropped


def test_sessions_end_when_the_token_leaves_finops_yaml(settings: Settings) -> None:
    with build(settings) as first:
        cookie = sign_in(first, "search")
    config = load_config(settings.config)
    kept = [t for t in config.api_tokens if t.name != "search"]
    with build(settings, config=config.model_copy(update={"api_tokens": kept})) as restarted:
        response = restarted.get("/api/teams/search", headers=session(cookie))
        assert response.status_code == 401
    with build(settings) as unchanged:  # same key, token still there: the session goes on
        assert unchanged.get("/api/teams/search",
                             headers=session(cookie)).status_code == 200
    with build(settings, secret=None) as random_key:  # no key set: a restart ends sessions
        assert random_key.get("/api/teams/search",
                              headers=session(cookie)).status_code == 401


# -- tokens in URLs ------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["token=", "%74oken=", "TOKEN=", "access_token="])
def test_url_tokens_authenticate_nothing(browser: TestClient, query: str) -> None:
    url = f"/api/teams?{query}{token('finance')}"
    response = browser.get(url)
    assert response.status_code == 400 and "not accepted in URLs" in response.json()["error"]
    page = browser.get(f"/dashboards/finance?start=2026-10-02&{query}{token('finance')}",
                       headers=PAGE, follow_redirects=False)
    assert page.status_code == 303 and token("finance") not in location(page)
    assert parse_qs(urlsplit(location(page)).query) == {
        "next": ["/dashboards/finance?start=2026-10-02"], "reason": ["url-token"]}


def test_bearer_clients_are_unchanged(browser: TestClient) -> None:
    assert browser.get("/api/teams", headers=auth("finance")).status_code == 200


# -- proxies and SSO -----------------------------------------------------------------------

def test_secure_cookie_behind_a_trusted_https_proxy(settings: Settings) -> None:
    https = {"X-Forwarded-Proto": "https", "Origin": "https://testserver"}
    with build(settings, client=PROXY) as behind_proxy:
        response = behind_proxy.post("/signin", data={"token": token("finance")},
                                     headers=https, follow_redirects=False)
        assert response.status_code == 303 and "secure" in response.headers["set-cookie"].lower()
    with build(settings) as direct:  # the same header from anyone else is not believed
        response = direct.post("/signin", data={"token": token("finance")},
                               headers={**https, "Origin": "http://testserver"},
                               follow_redirects=False)
        assert response.status_code == 303
        assert "secure" not in response.headers["set-cookie"].lower()


def sso(user: str, groups: str) -> dict[str, str]:
    return {"X-Forwarded-User": user, "X-Forwarded-Groups": groups}


def test_sso_headers_from_a_trusted_proxy_sign_people_in(settings: Settings) -> None:
    with build(settings, client=PROXY) as proxied:
        teams = proxied.get("/api/teams", headers=sso("ada", "staff,team-payments"))
        assert teams.status_code == 200
        assert [t["team"] for t in teams.json()["teams"]] == ["payments"]
        assert proxied.get("/api/teams/search",
                           headers=sso("ada", "team-payments")).status_code == 403
        assert proxied.get("/dashboards/finance", headers={
            **PAGE, **sso("bo", "finops-finance")}).status_code == 200
        ambiguous = proxied.get("/api/teams", headers=sso("cy", "team-payments,team-search"))
        assert ambiguous.status_code == 403 and "several teams" in ambiguous.json()["error"]
        assert proxied.post("/api/sql", json={"sql": "select 1"}, headers={
            **sso("bo", "finops-finance"), "Origin": "https://evil.example"}).status_code == 403


def test_sso_headers_are_ignored_when_no_group_is_mapped(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={
        "auth": AuthSettings(trusted_proxies=["10.0.0.0/24"])}))  # finops.yaml has no `sso`
    with TestClient(app, client=PROXY) as proxied:
        response = proxied.get("/api/teams", headers=sso("ada", "finops-finance"))
        assert response.status_code == 401


def test_sso_headers_from_anyone_else_are_ignored(browser: TestClient) -> None:
    response = browser.get("/api/teams", headers=sso("ada", "finops-finance"))
    assert response.status_code == 401


# -- any `next` at all ---------------------------------------------------------------------

@settings_hypothesis(max_examples=60, deadline=None)
@given(st.text(max_size=60))
def test_the_sign_in_page_answers_any_next(browser: TestClient, value: str) -> None:
    response = browser.get("/signin", params={"next": value}, follow_redirects=False)
    assert response.status_code == 200 and "<form" in response.text
