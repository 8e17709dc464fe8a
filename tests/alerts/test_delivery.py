"""Delivery that survives Slack: a real HTTP stand-in answering 429 + Retry-After, 500,
``ok: false`` errors and hangs; exactly what was delivered, in which order, how often."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from finops.alerts.check import CheckResult, check
from finops.settings import Settings
from finops.warehouse import Warehouse
from models.config import FinOpsConfig, parse_config
from tests.support.budget_data import CONFIG, held
from tests.support.slack import SlackStub

pytestmark = pytest.mark.integration

NOW = datetime(2026, 10, 21, 9, 0)
# Three budgets in one channel: three conversations, each opened by one message.
BUDGETS = [
    {"name": "payments-monthly", "team": "payments", "amount": 1500},
    {"name": "payments-tight", "team": "payments", "amount": 1000},
    {"name": "payments-api", "filter": {"namespace": "payments-api"}, "amount": 500,
     "channel": "#team-payments"},
]
KEYS = ["budget:payments-monthly:2026-10:forecast:100",
        "budget:payments-tight:2026-10:actual:100",
        "budget:payments-api:2026-10:actual:100",
        "digest:unowned:2026-W43"]


@pytest.fixture
def three(budget_wh: Warehouse) -> FinOpsConfig:
    return parse_config({**CONFIG, "budgets": BUDGETS})


def run(wh: Warehouse, config: FinOpsConfig, settings: Settings) -> CheckResult:
    return check(held(wh), config, settings, as_of=date(2026, 10, 20), send=True, now=NOW)


def outbox(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    cursor = con.execute("SELECT alert_key, status, attempts, last_error FROM alert_outbox")
    return {k: {"status": s, "attempts": a, "error": e} for k, s, a, e in cursor.fetchall()}


def posts(slack: SlackStub) -> list[dict[str, Any]]:
    return slack.calls("chat.postMessage")


def team_keys(slack: SlackStub) -> list[str]:
    """Alert keys accepted in #team-payments, in order."""
    team = slack.channel_id("#team-payments")
    return [m["metadata"]["event_payload"]["alert_key"] for m in slack.messages
            if m["channel"] == team]


def tried(slack: SlackStub) -> list[str]:
    return [r["body"]["metadata"]["event_payload"]["alert_key"] for r in posts(slack)]


TEAM = "chat.postMessage #team-payments"


def test_everything_once_in_order(budget_wh: Warehouse, three: FinOpsConfig,
                                  settings: Settings, slack: SlackStub) -> None:
    first = run(budget_wh, three, settings)
    assert first.report and first.report.sent == KEYS
    assert [r["method"] for r in slack.requests[:2]] == ["auth.test", "chat.postMessage"]
    assert len(slack.calls("auth.test")) == 1  # once before the first message
    assert run(budget_wh, three, settings).report.sent == []  # type: ignore[union-attr]
    assert slack.keys() == KEYS
    assert {r["auth"] for r in slack.requests} == {"Bearer xoxb-test"}
    rows = outbox(budget_wh.con)
    assert {(r["status"], r["attempts"]) for r in rows.values()} == {("sent", 1)}


def test_retry_after_is_waited_out_in_the_same_run(budget_wh: Warehouse, three: FinOpsConfig,
                                                   settings: Settings, slack: SlackStub) -> None:
    slack.script[TEAM] = ["ok", "429:1", "429:1"]
    started = time.monotonic()
    result = run(budget_wh, three, settings)
    assert time.monotonic() - started >= 2.0
    assert result.report and result.report.waited_s == 2.0
    # the platform channel goes on while #team-payments waits; each channel keeps its order
    assert result.report.sent == [KEYS[0], KEYS[3], KEYS[1], KEYS[2]]
    assert team_keys(slack) == KEYS[:3] and sorted(slack.keys()) == sorted(KEYS)
    assert tried(slack) == [KEYS[0], KEYS[1], KEYS[3], KEYS[1], KEYS[1], KEYS[2]]
    retried = [r["at"] for r in posts(slack) if r["body"]["metadata"]["event_payload"]
               ["alert_key"] == KEYS[1]]
    assert retried[1] - retried[0] >= 0.95 and retried[2] - retried[1] >= 0.95
    assert {r["attempts"] for r in outbox(budget_wh.con).values()} == {1}  # 429s not counted


def test_retry_after_beyond_the_bound_waits_for_the_next_run(
        budget_wh: Warehouse, three: FinOpsConfig, settings: Settings,
        slack: SlackStub) -> None:
    slack.script[TEAM] = ["ok", "429:600"]
    result = run(budget_wh, three, settings)
    assert result.report and result.report.sent == [KEYS[0], KEYS[3]]
    assert [k for k, _ in result.report.deferred] == [KEYS[1], KEYS[2]]
    rows = outbox(budget_wh.con)
    assert [(rows[k]["status"], rows[k]["attempts"]) for k in KEYS[1:3]] == [("pending", 0)] * 2
    assert run(budget_wh, three, settings).report.sent == KEYS[1:3]  # type: ignore[union-attr]
    assert team_keys(slack) == KEYS[:3] and len(slack.keys()) == 4


def test_server_errors_are_retried_with_backoff(budget_wh: Warehouse, three: FinOpsConfig,
                                                settings: Settings, slack: SlackStub) -> None:
    slack.script[TEAM] = ["500", "ok"]
    result = run(budget_wh, three, settings)
    assert result.report and sorted(result.report.sent) == sorted(KEYS)
    assert result.report.failed == [] and result.report.waited_s == 0.05
    assert team_keys(slack) == KEYS[:3] and tried(slack)[:2] == [KEYS[0], KEYS[3]]
    assert len(posts(slack)) == 5
    assert {r["attempts"] for r in outbox(budget_wh.con).values()} == {1}


def test_persistent_errors_count_an_attempt_and_go_next_run(
        budget_wh: Warehouse, three: FinOpsConfig, settings: Settings,
        slack: SlackStub) -> None:
    slack.script[TEAM] = ["500", "500"]  # the first message, and its retry
    result = run(budget_wh, three, settings)
    assert result.report and [k for k, _ in result.report.failed] == [KEYS[0]]
    assert result.report.sent == [KEYS[3], KEYS[1], KEYS[2]]  # other conversations go on
    assert "HTTP 500" in result.report.failed[0][1]
    assert outbox(budget_wh.con)[KEYS[0]] == {
        "status": "pending", "attempts": 1, "error": result.report.failed[0][1]}
    assert run(budget_wh, three, settings).report.sent == [KEYS[0]]  # type: ignore[union-attr]
    assert sorted(slack.keys()) == sorted(KEYS) and len(slack.keys()) == 4


@pytest.mark.slow
def test_a_timed_out_post_is_looked_up_not_posted_again(
        budget_wh: Warehouse, three: FinOpsConfig, settings: Settings,
        slack: SlackStub) -> None:
    slack.script[TEAM] = ["hang"]  # Slack takes it, the answer comes too late
    result = run(budget_wh, three, settings)
    assert result.report and sorted(result.report.sent) == sorted(KEYS)
    assert team_keys(slack) == KEYS[:3] and len(slack.keys()) == 4  # no duplicate
    assert len(posts(slack)) == 4
    assert len(slack.calls("conversations.list")) == 1  # the ID of #team-payments
    [lookup] = slack.calls("conversations.history")
    assert lookup["body"]["channel"] == slack.channel_id("#team-payments")
    assert outbox(budget_wh.con)[KEYS[0]]["attempts"] == 1


@pytest.mark.slow
def test_a_timed_out_post_slack_never_took_is_posted_again(
        budget_wh: Warehouse, three: FinOpsConfig, settings: Settings,
        slack: SlackStub) -> None:
    slack.script[TEAM] = ["hang-drop"]
    result = run(budget_wh, three, settings)
    assert result.report and sorted(result.report.sent) == sorted(KEYS)
    assert team_keys(slack) == KEYS[:3] and len(slack.keys()) == 4
    assert len(posts(slack)) == 5 and len(slack.calls("conversations.history")) == 1


@pytest.mark.parametrize("where", ["auth.test", "chat.postMessage"])
def test_a_revoked_token_stops_the_run_without_burning_attempts(
        budget_wh: Warehouse, three: FinOpsConfig, settings: Settings, slack: SlackStub,
        where: str) -> None:
    slack.script[where] = ["error:token_revoked"]
    result = run(budget_wh, three, settings)
    assert result.report and result.report.sent == []
    assert "token_revoked" in result.report.stopped["slack"]
    assert len(posts(slack)) == (1 if where == "chat.postMessage" else 0)  # the first only
    assert {(r["status"], r["attempts"]) for r in outbox(budget_wh.con).values()} == {
        ("pending", 0)}
    assert run(budget_wh, three, settings).report.sent == KEYS  # type: ignore[union-attr]


def test_a_missing_channel_dead_letters_at_once_and_names_it(
        budget_wh: Warehouse, three: FinOpsConfig, settings: Settings,
        slack: SlackStub) -> None:
    slack.missing.add("#team-payments")
    result = run(budget_wh, three, settings)
    assert result.report and result.report.sent == [KEYS[3]]
    assert [k for k, _ in result.report.dead] == KEYS[:3]
    assert all("#team-payments" in e and "channel_not_found" in e
               for _, e in result.report.dead)
    assert len(posts(slack)) == 2  # one try for the channel, then the digest
    rows = outbox(budget_wh.con)
    assert [(rows[k]["status"], rows[k]["attempts"]) for k in KEYS[:3]] == [("dead", 1)] * 3
    assert run(budget_wh, three, settings).report.sent == []  # type: ignore[union-attr]


def test_one_message_a_second_per_channel(budget_wh: Warehouse, three: FinOpsConfig,
                                          settings: Settings, slack: SlackStub) -> None:
    paced = settings.model_copy(update={"slack": settings.slack.model_copy(
        update={"per_channel_interval_s": 1.0})})
    run(budget_wh, three, paced)
    team = [r["at"] for r in posts(slack) if r["body"]["channel"] == "#team-payments"]
    assert len(team) == 3
    assert all(b - a >= 0.95 for a, b in zip(team, team[1:], strict=False))
    platform = next(r["at"] for r in posts(slack) if r["body"]["channel"] == "#finops-platform")
    assert platform - team[0] < 0.9  # another channel does not wait for this one
