"""The alert routes as each role sees them, and Slack's signed button presses
(``POST /api/slack/interactions``): valid, wrong signature, replayed old timestamp, unsigned,
not configured; the outbox gauges of ``/metrics``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from finops.alerts.interactions import ACK, SNOOZE, sign
from finops.api.app import create_app
from finops.settings import Settings
from tests.support.api import assert_error
from tests.support.api_warehouse import auth

SECRET = "test-signing-secret"
CONVERSATION = "budget:payments-monthly:2026-10"
ROUTE = "/api/slack/interactions"
pytestmark = pytest.mark.integration  # create_app starts SQL worker processes


@pytest.fixture(scope="module")
def slack_client(settings: Settings, tmp_path_factory: pytest.TempPathFactory,
                 ) -> Iterator[TestClient]:
    """The app with a Slack signing secret and its own interactions store."""
    store = tmp_path_factory.mktemp("interactions") / "presses.sqlite3"
    slack = settings.slack.model_copy(update={"signing_secret": SecretStr(SECRET),
                                              "interactions_db": store})
    with TestClient(create_app(settings.model_copy(update={"slack": slack}))) as client:
        yield client


def body(action: str, user: str, action_ts: str) -> bytes:
    payload = {"type": "block_actions", "user": {"id": f"U-{user}", "username": user},
               "container": {"channel_id": "C1", "message_ts": "1.000001"},
               "response_url": "https://example.invalid/not-slack",  # never posted to
               "actions": [{"action_id": action, "value": CONVERSATION,
                            "action_ts": action_ts}]}
    return f"payload={quote(json.dumps(payload))}".encode()


def signed(data: bytes, *, secret: str = SECRET, age_s: int = 0) -> dict[str, str]:
    stamp = str(int(time.time()) - age_s)
    return {"Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(secret.encode(), stamp, data)}


def test_signed_presses_are_recorded_and_listed_per_team(slack_client: TestClient) -> None:
    ack, snooze = body(ACK, "alice", "10.1"), body(SNOOZE, "bob", "10.2")
    for data in (ack, snooze, ack):  # Slack may deliver a press twice: one record
        response = slack_client.post(ROUTE, content=data, headers=signed(data))
        assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "recorded": "acknowledge"}
    listed = slack_client.get("/api/alerts/acknowledgements", headers=auth("payments"))
    rows = listed.json()["acknowledgements"]
    assert [(r["action"], r["user_name"], r["team"]) for r in rows] == [
        ("acknowledge", "alice", "payments"), ("snooze", "bob", "payments")]
    assert rows[0]["until"] is None and rows[1]["until"] > rows[1]["pressed_at"]
    other = slack_client.get("/api/alerts/acknowledgements", headers=auth("search"))
    assert other.json()["acknowledgements"] == []
    assert_error(slack_client.get("/api/alerts/acknowledgements?team=payments",
                                  headers=auth("search")), 403)
    assert_error(slack_client.get("/api/alerts/acknowledgements"), 401)


@pytest.mark.parametrize(("headers", "message"), [
    (lambda d: signed(d, secret="not-the-secret"), "signature does not match"),
    (lambda d: signed(d, age_s=301), "more than 5 minutes"),  # a replayed old request
    (lambda d: {"Content-Type": "application/x-www-form-urlencoded"}, "not a signed Slack"),
])
def test_unsigned_or_stale_presses_are_refused(slack_client: TestClient, headers: object,
                                               message: str) -> None:
    data = body(ACK, "mallory", "20.1")
    response = slack_client.post(ROUTE, content=data, headers=headers(data))  # type: ignore[operator]
    assert message in assert_error(response, 401)["error"]
    rows = slack_client.get("/api/alerts/acknowledgements", headers=auth("platform"))
    assert "mallory" not in rows.text


def test_a_signed_body_that_is_not_a_payload_is_a_400(slack_client: TestClient) -> None:
    data = b"payload=%7Bnot-json"
    assert "payload" in assert_error(slack_client.post(ROUTE, content=data,
                                                       headers=signed(data)), 400)["error"]


def test_without_a_signing_secret_the_route_says_so(client: TestClient) -> None:
    data = body(ACK, "alice", "30.1")
    error = assert_error(client.post(ROUTE, content=data, headers=signed(data)), 404)["error"]
    assert "FINOPS_SLACK__SIGNING_SECRET" in error


def test_outbox_rows_by_role_and_status(client: TestClient) -> None:
    mine = client.get("/api/alerts?status=pending", headers=auth("payments")).json()["alerts"]
    assert [(a["team"], a["status"]) for a in mine] == [("payments", "pending")]
    assert client.get("/api/alerts?status=dead", headers=auth("platform")).json() == {
        "alerts": []}
    assert "not one of pending" in assert_error(
        client.get("/api/alerts?status=lost", headers=auth("platform")), 400)["error"]


def test_metrics_have_the_outbox_gauges(client: TestClient, settings: Settings) -> None:
    text = client.get("/metrics").text
    assert "finops_alerts_pending 3" in text and "finops_alerts_dead 0" in text
    age = next(line for line in text.splitlines()
               if line.startswith("finops_alerts_oldest_pending_age_seconds "))
    assert float(age.split()[1]) > 0  # the fixture's rows were queued in October 2026
    assert Path(settings.db).exists()
