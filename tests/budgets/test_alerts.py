"""The outbox against a real DuckDB file and a real HTTP stand-in for Slack's Web API."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from finops import alerts
from finops.settings import Settings
from finops.warehouse import Warehouse, open_snapshot
from models.config import FinOpsConfig
from models.errors import AlertDeliveryError
from tests.support.budget_data import UNOWNED_DAILY
from tests.support.slack import SlackStub

pytestmark = pytest.mark.integration

AS_OF = date(2026, 10, 20)
BUDGET_KEYS = [
    "budget:payments-monthly:2026-10:actual:50",
    "budget:payments-monthly:2026-10:actual:80",
    "budget:payments-monthly:2026-10:forecast:100",
]
DIGEST_KEY = "digest:unowned:2026-W43"


def run(wh: Warehouse, config: FinOpsConfig, settings: Settings) -> alerts.Delivery:
    """What `finops budgets check --send` does: collect, enqueue, deliver."""
    _, due = alerts.collect(wh.con, config, settings, AS_OF)
    for alert in due:
        alerts.enqueue(wh.con, alert)
    return alerts.deliver(wh.con, alerts.slack_client(settings), settings.slack.max_attempts)


def outbox(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    cursor = con.execute("SELECT * FROM alert_outbox")
    names = [d[0] for d in cursor.description or []]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def test_collect_routes_each_alert(budget_wh: Warehouse, config: FinOpsConfig,
                                   settings: Settings) -> None:
    _, due = alerts.collect(budget_wh.con, config, settings, AS_OF)
    assert sorted(a.key for a in due) == sorted([*BUDGET_KEYS, DIGEST_KEY])
    channels = {a.key: a.channel for a in due}
    assert {channels[k] for k in BUDGET_KEYS} == {"#team-payments"}
    assert channels[DIGEST_KEY] == "#finops-platform"


def test_each_threshold_fires_once_across_runs(budget_wh: Warehouse, config: FinOpsConfig,
                                               settings: Settings, slack: SlackStub) -> None:
    first = run(budget_wh, config, settings)
    second = run(budget_wh, config, settings)
    third = run(budget_wh, config, settings)
    assert sorted(first.sent) == sorted([*BUDGET_KEYS, DIGEST_KEY])
    assert second.sent == third.sent == []
    assert len(slack.requests) == 4
    assert {r["auth"] for r in slack.requests} == {"Bearer xoxb-test"}
    rows = outbox(budget_wh.con)
    assert {r["status"] for r in rows.values()} == {"sent"}
    assert all(r["attempts"] == 1 and r["slack_ts"] and r["sent_at"] for r in rows.values())


@pytest.mark.parametrize(("mode", "error"), [
    ("500", "HTTP 500"), ("not_ok", "channel_not_found"), ("slow", "Slack unreachable")])
def test_failed_post_is_retried_next_run_and_sent_once(
        budget_wh: Warehouse, config: FinOpsConfig, settings: Settings, slack: SlackStub,
        mode: str, error: str) -> None:
    slack.modes = [mode]  # the first post fails, the rest succeed
    first = run(budget_wh, config, settings)
    [(failed_key, message)] = first.failed
    assert error in message
    row = outbox(budget_wh.con)[failed_key]
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert error in row["last_error"]

    second = run(budget_wh, config, settings)
    assert second.sent == [failed_key] and second.failed == []
    row = outbox(budget_wh.con)[failed_key]
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    texts = [p["text"] for p in slack.posted]
    assert len(texts) == len(set(texts)) == 4  # every alert accepted exactly once
    assert run(budget_wh, config, settings).sent == []


def test_dead_letter_after_max_attempts(budget_wh: Warehouse, config: FinOpsConfig,
                                        settings: Settings, slack: SlackStub) -> None:
    slack.default = "not_ok"
    results = [run(budget_wh, config, settings) for _ in range(3)]
    assert [len(r.failed) for r in results] == [4, 4, 4]
    assert len(results[-1].dead) == 4 and results[0].dead == []
    rows = outbox(budget_wh.con)
    assert {(r["status"], r["attempts"]) for r in rows.values()} == {("dead", 3)}
    assert all("channel_not_found" in r["last_error"] for r in rows.values())
    requests = len(slack.requests)
    slack.default = "ok"
    assert run(budget_wh, config, settings).sent == []  # dead letters are not retried
    assert len(slack.requests) == requests == 12


def test_posted_blocks_carry_the_numbers(budget_wh: Warehouse, config: FinOpsConfig,
                                         settings: Settings, slack: SlackStub) -> None:
    run(budget_wh, config, settings)
    by_text = {p["text"].split(".")[0]: p for p in slack.posted}
    forecast = by_text["Budget payments-monthly: forecast crossed 100%"]
    assert forecast["channel"] == "#team-payments"
    blocks = json.dumps(forecast["blocks"], ensure_ascii=False)
    for expected in ("$1,388.20 of $1,500.00 (92.5%)", "$2,151.71 (143.4%)",
                     "namespace payments-api: $827.40", "namespace payments-db: $361.00",
                     "service Amazon RDS: $199.80",
                     "https://finops.example.com/dashboards/team/payments"):
        assert expected in blocks, expected
    digest = next(p for p in slack.posted if p["channel"] == "#finops-platform")
    unowned = 7 * sum(UNOWNED_DAILY.values())  # Oct 14-20
    digest_blocks = json.dumps(digest["blocks"])
    assert f"Unowned spend 2026-10-14 – 2026-10-20: ${unowned:,.2f}" in digest["text"]
    assert "no-team-label: $23.31" in digest_blocks
    assert "untagged-resource: $8.75" in digest_blocks
    assert "eks-prod/legacy (no-team-label): $23.31" in digest_blocks


def test_missing_token_is_a_clear_error(settings: Settings) -> None:
    no_token = settings.model_copy(update={"slack": settings.slack.model_copy(
        update={"token": None})})
    with pytest.raises(AlertDeliveryError, match="FINOPS_SLACK__TOKEN"):
        alerts.slack_client(no_token)


def test_read_api_on_the_published_snapshot(budget_wh: Warehouse, config: FinOpsConfig,
                                            settings: Settings, slack: SlackStub) -> None:
    slack.modes = ["not_ok"]
    run(budget_wh, config, settings)
    budget_wh.publish()
    con = open_snapshot(budget_wh.snapshot)
    try:
        [monthly, weekly] = alerts.budget_status(con, config, AS_OF)
        assert (monthly["actual"], monthly["percent_used"]) == (1388.20, 92.55)
        assert monthly["forecast"]["point"] == 2151.71 and monthly["forecast"]["ok"]
        states = {t["alert_key"]: t["alert_status"] for t in monthly["thresholds"]}
        assert states["budget:payments-monthly:2026-10:actual:100"] is None  # not crossed
        assert weekly["actual"] == 147.98 and weekly["period_label"] == "2026-W43"
        mine = alerts.list_alerts(con, "payments")
        assert sorted(a["alert_key"] for a in mine) == sorted(BUDGET_KEYS)
        assert {a["status"] for a in mine} == {"sent", "pending"}
        assert len(alerts.list_alerts(con, None)) == 4
        assert alerts.list_alerts(con, "search") == []
    finally:
        con.close()


def test_empty_warehouse_has_status_but_no_alerts(tmp_path: Path, config: FinOpsConfig,
                                                  settings: Settings) -> None:
    with Warehouse(tmp_path / "empty.duckdb") as wh:
        statuses, due = alerts.collect(wh.con, config, settings, AS_OF)
        assert due == []
        assert [s.actual for s in statuses] == [0.0, 0.0]
        assert statuses[0].forecast.reason == "needs 7 days of history, has 0"
