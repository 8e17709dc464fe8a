"""Every error, whatever raised it, has one body: {ok: false, error, errors, status}."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import assert_error
from tests.support.api_warehouse import auth

pytestmark = pytest.mark.integration


def test_missing_token_is_401_with_bearer_challenge(client: TestClient) -> None:
    response = client.get("/api/teams")
    body = assert_error(response, 401)
    assert "Bearer" in body["error"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer wrong-token", "Basic Zm9vOmJhcg==", "Bearer"])
def test_bad_token_is_401(client: TestClient, header: str) -> None:
    assert_error(client.get("/api/teams", headers={"Authorization": header}), 401)


def test_unknown_path_is_404(client: TestClient) -> None:
    assert_error(client.get("/api/nothing-here", headers=auth("finance")), 404)


def test_unknown_team_is_404(client: TestClient) -> None:
    body = assert_error(client.get("/api/teams/ghost", headers=auth("finance")), 404)
    assert "ghost" in body["error"]


def test_wrong_method_is_405(client: TestClient) -> None:
    assert_error(client.delete("/api/teams", headers=auth("finance")), 405)


def test_validation_error_names_the_field(client: TestClient) -> None:
    response = client.get("/api/allocation?start=not-a-date", headers=auth("finance"))
    body = assert_error(response, 422)
    assert any(e.startswith("query.start") for e in body["errors"])


def test_sql_body_validation_error(client: TestClient) -> None:
    body = assert_error(client.post("/api/sql", json={"max_rows": 0}, headers=auth("platform")),
                        422)
    assert any("body.sql" in e for e in body["errors"])
    assert any("body.max_rows" in e for e in body["errors"])


def test_finops_error_uses_its_status(client: TestClient) -> None:
    body = assert_error(client.get("/api/allocation?aggregate=colour", headers=auth("finance")),
                        400)
    assert "colour" in body["error"]


def test_start_after_end_is_400(client: TestClient) -> None:
    url = "/api/allocation?start=2026-10-10&end=2026-10-01"
    assert "after" in assert_error(client.get(url, headers=auth("finance")), 400)["error"]


def test_forbidden_is_403(client: TestClient) -> None:
    body = assert_error(client.get("/api/teams/search", headers=auth("payments")), 403)
    assert "payments" in body["error"]


def test_missing_snapshot_is_503(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from finops.api import create_app
    from finops.settings import Settings
    from tests.support.api_warehouse import write_config

    settings = Settings(db=tmp_path / "none.duckdb", config=write_config(tmp_path / "f.yaml"))
    with TestClient(create_app(settings)) as fresh:
        body = assert_error(fresh.get("/api/teams", headers=auth("finance")), 503)
        assert "finops demo" in body["error"]


def test_unexpected_error_is_500_without_internals(settings) -> None:  # type: ignore[no-untyped-def]
    from finops.api import create_app

    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    with TestClient(app, raise_server_exceptions=False) as fresh:
        body = assert_error(fresh.get("/boom"), 500)
    assert "secret internal detail" not in body["error"]
