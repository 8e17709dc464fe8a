"""Liveness, readiness, and no filesystem paths in error bodies for anyone but platform."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.settings import Settings
from tests.support import assert_error
from tests.support.api_warehouse import auth, write_config

pytestmark = pytest.mark.integration


@pytest.fixture
def unpublished(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    """An API whose warehouse was never published (a fresh install)."""
    settings = Settings(db=tmp_path / "nothing" / "finops.duckdb",
                        config=write_config(tmp_path / "finops.yaml"))
    with TestClient(create_app(settings)) as client:
        yield client, settings.snapshot_path


def test_healthz_is_alive_without_token_data_or_path(client: TestClient,
                                                     settings: Settings) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ok", "version"} and body["ok"] is True
    assert str(settings.db.parent) not in response.text


def test_healthz_is_alive_even_without_a_snapshot(unpublished: tuple[TestClient, Path]) -> None:
    client, _ = unpublished
    assert client.get("/healthz").json()["ok"] is True


def test_readyz_names_generation_and_source_ages(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["generation"] == 1
    assert 0 <= body["snapshot_age_s"] < 3600
    sources = {s["source"]: s for s in body["sources"]}
    assert set(sources) == {"fixture"}  # the fixture's one successful load
    assert 0 <= sources["fixture"]["age_s"] < 3600


def test_readyz_is_503_without_a_snapshot_and_shows_no_path(
        unpublished: tuple[TestClient, Path]) -> None:
    client, snapshot = unpublished
    body = assert_error(client.get("/readyz"), 503)
    assert "finops demo" in body["error"]
    assert str(snapshot.parent) not in str(body)


@pytest.mark.parametrize("who", ["finance", "payments"])
def test_503_bodies_hide_paths_from_non_platform_callers(
        unpublished: tuple[TestClient, Path], who: str) -> None:
    client, snapshot = unpublished
    body = assert_error(client.get("/api/teams", headers=auth(who)), 503)
    assert str(snapshot.parent) not in str(body)


def test_503_bodies_show_the_path_to_platform(unpublished: tuple[TestClient, Path],
                                              caplog: pytest.LogCaptureFixture) -> None:
    client, snapshot = unpublished
    body = assert_error(client.get("/api/teams", headers=auth("platform")), 503)
    assert str(snapshot) in body["error"]
    assert str(snapshot) in caplog.text  # the server log keeps it for everyone's requests


def test_unauthenticated_data_requests_are_401_not_503(
        unpublished: tuple[TestClient, Path]) -> None:
    client, _ = unpublished
    assert_error(client.get("/api/teams"), 401)


def test_metrics_show_snapshot_generations(client: TestClient) -> None:
    client.get("/api/teams", headers=auth("finance"))
    text = client.get("/metrics").text
    assert "finops_snapshot_generation 1" in text
    assert "finops_snapshot_generations_open 1" in text
    assert "# TYPE finops_snapshot_swaps_total counter" in text
