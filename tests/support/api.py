"""Checks of the API's one error body."""

from __future__ import annotations

from typing import Any

import httpx


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """``response`` has ``status`` and the canonical body ``{ok, error, errors, status}``."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"ok", "error", "errors", "status"}
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list) and body["errors"]
    return body
