"""One conversation per budget and period, across repeated checks: a real DuckDB file and a
real HTTP stand-in for Slack, exactly what was delivered and in which order."""

from __future__ import annotations

import json
from datetime import date, datetime

import polars as pl
import pytest

from finops.alerts.check import CheckResult, check
from finops.alerts.interactions import InteractionStore
from finops.settings import Settings
from finops.warehouse import Warehouse
from models.config import FinOpsConfig, parse_config
from tests.support.budget_data import CONFIG, allocation_rows, held, load_allocation
from tests.support.slack import SlackStub

pytestmark = pytest.mark.integration

NOW = datetime(2026, 10, 21, 9, 0)
PARENT = "budget:payments-monthly:2026-10:forecast:100"


def run(wh: Warehouse, config: FinOpsConfig, settings: Settings, day: str,
        now: datetime = NOW) -> CheckResult:
    return check(held(wh), config, settings, as_of=date.fromisoformat(day), send=True, now=now)


def team_messages(slack: SlackStub, channel: str = "#team-payments") -> list[dict[str, object]]:
    return [m for m in slack.messages if m["channel"] == slack.channel_id(channel)]


def test_one_conversation_across_checks(budget_wh: Warehouse, config: FinOpsConfig,
                                        settings: Settings, slack: SlackStub) -> None:
    first = run(budget_wh, config, settings, "2026-10-08")  # forecast 143 %: one message
    assert first.report and first.report.sent == [PARENT, "digest:unowned:2026-W41"]
    [parent] = team_messages(slack)
    assert str(parent["text"]).startswith(
        "Budget payments-monthly 2026-10: forecast 100% crossed")
    run(budget_wh, config, settings, "2026-10-12")  # actual 55.5 %: 50 % crossed
    run(budget_wh, config, settings, "2026-10-20")  # actual 92.5 %: 80 % crossed
    again = run(budget_wh, config, settings, "2026-10-20")
    assert again.report and again.report.sent == [] and again.report.updated == []
    assert slack.keys() == [
        PARENT, "digest:unowned:2026-W41",
        "budget:payments-monthly:2026-10:actual:50", "digest:unowned:2026-W42",
        "budget:payments-monthly:2026-10:actual:80", "digest:unowned:2026-W43"]
    replies = team_messages(slack)[1:]
    assert [r["thread_ts"] for r in replies] == [parent["ts"], parent["ts"]]
    assert [str(r["text"]).split(".")[0] for r in replies] == [
        "Budget payments-monthly 2026-10: now actual 50% crossed",
        "Budget payments-monthly 2026-10: now actual 80% crossed"]
    # the parent follows: updated in place (chat.update) after each crossing, never re-posted
    assert [u["ts"] for u in slack.updates] == [parent["ts"], parent["ts"]]
    last = slack.updates[-1]
    assert last["text"].startswith("Budget payments-monthly 2026-10: forecast 100% (with "
                                   "actual 50%, actual 80%) crossed. payments: $1,388.20 of "
                                   "$1,500.00 (92.5%)")
    blocks = json.dumps(last["blocks"])
    assert "now actual 50% crossed" in blocks and "now actual 80% crossed" in blocks


def test_first_check_names_every_threshold_crossed_with_the_highest(
        budget_wh: Warehouse, config: FinOpsConfig, settings: Settings,
        slack: SlackStub) -> None:
    run(budget_wh, config, settings, "2026-10-20")
    [message] = team_messages(slack)
    assert str(message["text"]).startswith(
        "Budget payments-monthly 2026-10: forecast 100% (with actual 50%, actual 80%) crossed")
    body = message["body"]
    assert isinstance(body, dict)
    actions = next(b for b in body["blocks"] if b["type"] == "actions")
    assert [e.get("action_id") for e in actions["elements"]] == [
        None, "finops_acknowledge", "finops_snooze_7d"]
    assert actions["elements"][0]["url"] == "https://finops.example.com/dashboards/team/payments"
    assert message["metadata"] == {"event_type": "finops_alert",
                                   "event_payload": {"alert_key": PARENT}}


def test_anomaly_of_the_same_scope_goes_into_the_thread(
        config: FinOpsConfig, settings: Settings, slack: SlackStub) -> None:
    spike = {("payments-db", None, "ram"): 250.0}
    with Warehouse(settings.db) as wh:
        load_allocation(wh, allocation_rows(spike=spike, spike_day=date(2026, 10, 20)))
        run(wh, config, settings, "2026-10-20")
    assert slack.keys()[:2] == ["budget:payments-monthly:2026-10:actual:100",
                                "anomaly:team:payments:2026-10-20"]
    anomaly = slack.messages[1]
    assert anomaly["thread_ts"] == slack.messages[0]["ts"]
    text = str(anomaly["text"])
    assert text.startswith("Spend anomaly: team payments on 2026-10-20: $319.41 spent vs "
                           "$69.41 a day expected ($250.00 more")
    assert "1. eks-prod/payments-db (ram) in account 222222222222: +$250.00" in text
    assert len(team_messages(slack)) == 2  # the parent and its thread: no flood


def test_a_step_is_one_anomaly_over_its_days(config: FinOpsConfig, settings: Settings,
                                             slack: SlackStub) -> None:
    rows = allocation_rows()
    api_step = (rows["namespace"] == "payments-api") & (rows["day"] >= date(2026, 10, 15))
    stepped = rows.with_columns(  # payments-api spends 2.2 times as much from the 15th
        (rows["effective_cost"] * (1 + 1.2 * api_step.cast(int))).alias("effective_cost"))
    with Warehouse(settings.db) as wh:
        load_allocation(wh, stepped)
        for day in ("2026-10-14", "2026-10-15", "2026-10-16", "2026-10-17"):
            run(wh, config, settings, day)
    anomalies = [k for k in slack.keys() if k.startswith("anomaly:")]
    assert anomalies == ["anomaly:team:payments:2026-10-15"]


def test_a_snoozed_budget_stays_quiet_until_the_snooze_ends(
        budget_wh: Warehouse, config: FinOpsConfig, settings: Settings,
        slack: SlackStub) -> None:
    run(budget_wh, config, settings, "2026-10-08")
    InteractionStore(settings.interactions_path).record({
        "id": "1", "conversation": "budget:payments-monthly:2026-10",
        "budget": "payments-monthly", "team": "payments", "action": "snooze",
        "user_id": "U1", "user_name": "alice", "pressed_at": NOW,
        "until": datetime(2026, 10, 28, 9, 0), "channel": "C1", "message_ts": "1.1"})
    quiet = run(budget_wh, config, settings, "2026-10-20")
    assert quiet.planned.quiet == ["payments-monthly"]
    assert [k for k in slack.keys() if k.startswith("budget:")] == [PARENT]
    assert "Snoozed by <@U1>" in json.dumps(slack.updates[-1]["blocks"])  # the parent says so
    run(budget_wh, config, settings, "2026-10-20", now=datetime(2026, 10, 28, 9, 1))
    budget_messages = [m for m in slack.messages if str(m["metadata"]["event_payload"]
                                                        ["alert_key"]).startswith("budget:")]
    assert [m["metadata"]["event_payload"]["alert_key"] for m in budget_messages] == [
        PARENT, "budget:payments-monthly:2026-10:actual:80"]  # one message: 80 with 50
    assert "now actual 80% (with actual 50%) crossed" in str(budget_messages[-1]["text"])


def test_daily_budgets_become_one_digest_the_next_day(
        budget_wh: Warehouse, settings: Settings, slack: SlackStub) -> None:
    daily = parse_config({**CONFIG, "budgets": [
        {**CONFIG["budgets"][0], "notify": "daily"},  # type: ignore[dict-item]
        {"name": "payments-small", "team": "payments", "amount": 1000, "notify": "daily"}]})
    run(budget_wh, daily, settings, "2026-10-20")
    assert [k for k in slack.keys() if not k.startswith("digest:unowned")] == []
    run(budget_wh, daily, settings, "2026-10-20", now=datetime(2026, 10, 22, 6, 0))
    [digest] = team_messages(slack)
    assert slack.keys()[-1] == "digest:budgets:daily:2026-10-21:slack:#team-payments"
    text = str(digest["text"])
    assert text.startswith("Budget digest (daily, 2026-10-21): 2 alert(s)")
    assert "payments-small" in text and "actual 100% (with" in text


def test_also_to_sends_the_threshold_to_its_own_recipient(
        budget_wh: Warehouse, settings: Settings, slack: SlackStub) -> None:
    budgets = [{**CONFIG["budgets"][0], "thresholds": [  # type: ignore[dict-item]
        {"percent": 50}, {"percent": 80, "also_to": ["#payments-leads"]}]}]
    run(budget_wh, parse_config({**CONFIG, "budgets": budgets}), settings, "2026-10-20")
    leads = team_messages(slack, "#payments-leads")
    assert [m["metadata"]["event_payload"]["alert_key"] for m in leads] == [
        "budget:payments-monthly:2026-10:actual:80>slack:#payments-leads"]
    assert str(leads[0]["text"]).startswith(
        "Budget payments-monthly 2026-10: actual 80% crossed")
    assert len(team_messages(slack)) == 1


def test_a_late_untagged_spike_is_checked_again_and_alerts_once(
        config: FinOpsConfig, settings: Settings, slack: SlackStub) -> None:
    """October 12 is restated on the 20th with a 300 untagged instance: the days whose data
    changed are checked again, and the unowned monitor (not a team's) finds it."""
    late_day = date(2026, 10, 12)
    with Warehouse(settings.db) as wh:
        load_allocation(wh, allocation_rows())
        run(wh, config, settings, "2026-10-20")
        assert [k for k in slack.keys() if k.startswith("anomaly:")] == []
        rows = allocation_rows()
        untagged = rows.filter((pl.col("day") == late_day) & pl.col("team").is_null()
                               & pl.col("service_name").is_not_null()).with_columns(
            resource_id=pl.lit("i-0late300"), service_name=pl.lit("Amazon EC2"),
            effective_cost=pl.lit(300.0), run_id=pl.lit("restated"))
        load_allocation(wh, pl.concat([rows, untagged], how="diagonal_relaxed"))
        result = run(wh, config, settings, "2026-10-20")
        run(wh, config, settings, "2026-10-20")  # nothing changed since: nothing new
    assert late_day in result.planned.checked_days
    assert [k for k in slack.keys() if k.startswith("anomaly:")] == [
        "anomaly:unowned:unowned:2026-10-12"]
    [alert] = [m for m in slack.messages if str(m["text"]).startswith("Spend anomaly")]
    assert alert["channel"] == slack.channel_id("#finops-platform")
    text = str(alert["text"])
    assert text.startswith("Spend anomaly: unowned spend on 2026-10-12: $304.58 spent")
    assert "1. i-0late300 (cloud) in account 222222222222: +$300.00" in text
    assert "Also seen by: account 222222222222, service Amazon EC2." in text
