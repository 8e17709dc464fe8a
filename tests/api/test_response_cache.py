"""The response cache: one computation per (generation, role, URL), never another scope's
bytes, a new publish is a new generation, a signed-out cookie gets nothing from it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.api.response_cache import Cached, ResponseCache
from finops.settings import ApiSettings, ReaderSettings, Settings
from tests.support.api_warehouse import DAYS, TOKENS, auth, expected, republish

WINDOW = f"start={DAYS[0]}&end={DAYS[-1]}"
SAME_ORIGIN = {"Origin": "http://testserver"}


def counts(client: TestClient) -> dict[str, int]:
    return dict(client.app.state.ctx.metrics.cache)  # type: ignore[attr-defined]


def fresh_app(settings: Settings, cache_mb: int = 64) -> TestClient:
    """An app of its own (its own cache) that looks for a new publish on every request."""
    configured = settings.model_copy(update={
        "api": ApiSettings(cache_mb=cache_mb), "reader": ReaderSettings(check_interval_ms=0)})
    return TestClient(create_app(configured))


@pytest.fixture
def app(settings: Settings) -> Iterator[TestClient]:
    with fresh_app(settings) as client:
        yield client


@pytest.mark.integration
def test_the_second_request_is_answered_from_the_cache(app: TestClient) -> None:
    first = app.get(f"/api/allocation?{WINDOW}&aggregate=namespace", headers=auth("finance"))
    second = app.get(f"/api/allocation?{WINDOW}&aggregate=namespace", headers=auth("finance"))
    assert counts(app) == {"miss": 1, "hit": 1}
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.headers["content-type"] == second.headers["content-type"] == "application/json"
    assert second.headers["content-encoding"] == "gzip"  # kept compressed, sent so
    assert second.headers["vary"] == "Accept-Encoding"
    plain = app.get(f"/api/allocation?{WINDOW}&aggregate=namespace",
                    headers={**auth("finance"), "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == first.content
    assert int(plain.headers["content-length"]) == len(plain.content)
    page = [app.get("/dashboards/finance", headers=auth("finance")) for _ in range(2)]
    assert page[0].text == page[1].text and "Finance overview" in page[1].text
    assert page[1].headers["content-type"].startswith("text/html")
    assert counts(app) == {"miss": 2, "hit": 3}


@pytest.mark.integration
def test_a_team_is_only_ever_answered_with_its_own_rows(app: TestClient) -> None:
    for _ in range(2):
        for team in ("payments", "search"):
            teams = app.get(f"/api/teams?{WINDOW}", headers=auth(team)).json()["teams"]
            assert [(t["team"], t["effective_cost"]) for t in teams] == [
                (team, round(expected(team=team), 2))]
    everyone = app.get(f"/api/teams?{WINDOW}", headers=auth("finance")).json()["teams"]
    assert {t["team"] for t in everyone} == {"payments", "search", "data"}
    assert counts(app) == {"miss": 3, "hit": 2}


@pytest.mark.integration
def test_errors_are_not_kept(app: TestClient) -> None:
    for _ in range(2):
        assert app.get("/api/teams/search", headers=auth("payments")).status_code == 403
        assert app.get("/api/unowned", headers=auth("payments")).status_code == 403
    assert counts(app).get("hit", 0) == 0


@pytest.mark.integration
def test_a_new_publish_is_a_new_generation(settings: Settings, app: TestClient) -> None:
    path = f"/api/teams/search?{WINDOW}"
    before = app.get(path, headers=auth("search")).json()["total_effective_cost"]
    assert app.get(path, headers=auth("search")).json()["total_effective_cost"] == before
    republish(settings.db, 1000.0)
    after = app.get(path, headers=auth("search")).json()["total_effective_cost"]
    assert after == round(before + 1000.0, 2)
    assert counts(app) == {"miss": 2, "hit": 1}
    assert app.app.state.ctx.responses.size > 0  # type: ignore[attr-defined]


@pytest.mark.integration
def test_a_token_in_the_url_is_refused_even_when_the_page_is_kept(app: TestClient) -> None:
    assert app.get("/api/coverage", headers=auth("finance")).status_code == 200
    refused = app.get("/api/coverage?token=x", headers=auth("finance"))
    assert refused.status_code == 400 and refused.json()["ok"] is False


@pytest.mark.integration
def test_a_signed_out_cookie_gets_nothing_from_the_cache(app: TestClient) -> None:
    signed_in = app.post("/signin", data={"token": TOKENS["finance"][0], "next": "/"},
                         headers=SAME_ORIGIN, follow_redirects=False)
    cookie = signed_in.cookies["finops_session"]
    page = {"Accept": "text/html", "Cookie": f"finops_session={cookie}"}
    assert app.get("/dashboards/finance", headers=page).status_code == 200
    assert app.get("/dashboards/finance", headers=page).status_code == 200
    assert counts(app) == {"miss": 1, "hit": 1}
    assert app.post("/signout", headers={**SAME_ORIGIN, "Cookie": f"finops_session={cookie}"},
                    follow_redirects=False).status_code == 303
    app.cookies.clear()
    replayed = app.get("/dashboards/finance", headers=page, follow_redirects=False)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/signin?")


@pytest.mark.integration
def test_turned_off_nothing_is_kept(settings: Settings) -> None:
    with fresh_app(settings, cache_mb=0) as client:
        for _ in range(2):
            assert client.get("/api/teams", headers=auth("finance")).status_code == 200
        assert counts(client) == {}


@pytest.mark.integration
def test_concurrent_misses_compute_once(settings: Settings) -> None:
    with fresh_app(settings) as client:
        async def many() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=client.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await asyncio.gather(*(c.get("/dashboards/unowned",
                                                    headers=auth("platform"))
                                              for _ in range(8)))

        responses = asyncio.run(many())
        assert {r.status_code for r in responses} == {200}
        assert len({r.content for r in responses}) == 1
        assert counts(client) == {"miss": 1, "hit": 7}


def entry(size: int) -> Cached:
    return Cached(b"x" * size, (("content-type", "text/plain"),))


def test_the_cache_keeps_the_most_recently_used_within_its_bytes() -> None:
    cache = ResponseCache(max_bytes=1000)
    for i in range(4):
        cache.put((1, "finance", f"/api/{i}", ""), entry(240))
    assert cache.size == 960
    assert cache.get((1, "finance", "/api/0", "")) is not None  # used: kept
    cache.put((1, "finance", "/api/4", ""), entry(240))
    assert cache.get((1, "finance", "/api/1", "")) is None  # least recently used: out
    assert cache.get((1, "finance", "/api/0", "")) is not None
    assert cache.size <= 1000
    cache.put((1, "finance", "/api/big", ""), entry(251))  # over a quarter: not kept
    assert cache.get((1, "finance", "/api/big", "")) is None


def test_a_newer_generation_drops_the_older_ones() -> None:
    cache = ResponseCache(max_bytes=10_000)
    cache.put((1, "finance", "/api/a", ""), entry(100))
    cache.put((1, "team:payments", "/api/a", ""), entry(100))
    cache.put((2, "finance", "/api/a", ""), entry(50))
    assert cache.get((1, "finance", "/api/a", "")) is None and cache.size == 50
