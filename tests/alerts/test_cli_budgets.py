"""`finops budgets check` and `finops alerts …` as a user runs them: a real warehouse file, a
real Slack stand-in; a delivery killed mid-way; network waits outside the writer lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from finops.alerts import reads
from finops.warehouse import Warehouse, open_snapshot
from tests.support import finops_command, run_cli
from tests.support.budget_data import CONFIG, allocation_rows, load_allocation
from tests.support.slack import SlackStub

pytestmark = pytest.mark.integration

ENV = {"SLACK__TOKEN": "xoxb-cli", "SLACK__MAX_ATTEMPTS": "2", "SLACK__TIMEOUT_S": "1",
       "SLACK__RETRIES": "0", "SLACK__PER_CHANNEL_INTERVAL_S": "0",
       "API__PUBLIC_URL": "https://finops.example.com"}
PARENT = "budget:payments-monthly:2026-10:forecast:100"
DIGEST = "digest:unowned:2026-W43"


@pytest.fixture
def cli_args(tmp_path: Path, slack: SlackStub, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    db, config = tmp_path / "finops.duckdb", tmp_path / "finops.yaml"
    with Warehouse(db) as wh:
        load_allocation(wh, allocation_rows())
        wh.publish()
    config.write_text(yaml.safe_dump(CONFIG))
    for key, value in {**ENV, "SLACK__BASE_URL": slack.url}.items():
        monkeypatch.setenv(f"FINOPS_{key}", value)
    return ["--db", str(db), "--config", str(config)]


def published(cli_args: list[str]) -> dict[str, str]:
    con = open_snapshot(Path(cli_args[1]).with_name("finops.published.duckdb"))
    try:
        return {a["alert_key"]: a["status"] for a in reads.list_alerts(con, None)}
    finally:
        con.close()


def check(cli_args: list[str], capsys: pytest.CaptureFixture[str],
          *extra: str) -> tuple[int, str, str]:
    return run_cli([*cli_args, "budgets", "check", "--as-of", "2026-10-20", *extra], capsys)


def test_dry_run_prints_and_sends_nothing(cli_args: list[str], slack: SlackStub,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(cli_args, capsys)
    assert code == 0, err
    assert slack.requests == []
    assert "2 new messages in the outbox (2 budgets as of 2026-10-20" in err
    assert "Dry run (no --send): 2 pending messages, none sent." in err
    assert f"--- to #team-payments  [{PARENT}]" in out
    assert "$1,388.20 of $1,500.00 (92.5%)" in out
    assert "namespace payments-api: $827.40" in out
    assert "Open team dashboard: https://finops.example.com/dashboards/team/payments" in out
    assert set(published(cli_args).values()) == {"pending"}


def test_send_delivers_once_then_nothing(cli_args: list[str], slack: SlackStub,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    check(cli_args, capsys)  # dry run first: queued, not sent
    code, out, err = check(cli_args, capsys, "--send", "--format", "csv")
    assert code == 0, err
    assert "0 new messages in the outbox" in err and "Sent 2 messages" in err
    assert out.startswith("budget,scope,period,")  # stdout is pure CSV
    assert ('payments-monthly,payments,2026-10,"$1,388.20","$1,500.00",92.5,"$2,151.71"'
            in out)
    code, _, err = check(cli_args, capsys, "--send")
    assert code == 0 and "Sent 0 messages" in err and slack.keys() == [PARENT, DIGEST]
    assert set(published(cli_args).values()) == {"sent"}


@pytest.mark.slow
def test_dead_letters_fail_the_run_and_can_be_requeued(
        cli_args: list[str], slack: SlackStub, capsys: pytest.CaptureFixture[str]) -> None:
    slack.missing.add("#team-payments")
    code, _, err = check(cli_args, capsys, "--send")
    assert code == 1
    assert "Sent 1 messages" in err
    assert ("Error: this run dead-lettered 1 messages: budget:payments-monthly:2026-10:"
            "forecast:100: Slack refused the message to #team-payments (HTTP 200: "
            "channel_not_found)") in err
    assert "kept in the outbox" not in err  # it is dead, not kept for a retry
    code, out, _ = run_cli([*cli_args, "alerts", "list", "--status", "dead", "--format",
                            "json"], capsys)
    assert code == 0
    [dead] = json.loads(out)
    assert (dead["alert_key"], dead["attempts"]) == (PARENT, 1)
    assert "#team-payments" in dead["last_error"]
    code, _, err = check(cli_args, capsys, "--send")  # the next run says they are there
    assert code == 0 and "The outbox holds 1 dead letters from earlier runs" in err
    slack.missing.clear()
    code, _, err = run_cli([*cli_args, "alerts", "retry", "--dead"], capsys)
    assert code == 0 and f"Requeued 1 dead letters: {PARENT}" in err
    code, _, err = check(cli_args, capsys, "--send")
    assert code == 0 and "Sent 1 messages" in err
    assert slack.keys() == [DIGEST, PARENT]


def test_retry_names_what_it_cannot_requeue(cli_args: list[str],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    check(cli_args, capsys)
    code, _, err = run_cli([*cli_args, "alerts", "retry", PARENT, "nope"], capsys)
    assert code == 1
    assert f"Error: no such alert: nope; not dead letters: {PARENT} (pending)" in err
    code, _, err = run_cli([*cli_args, "alerts", "retry"], capsys)
    assert code == 1 and "give alert keys to requeue, or --dead" in err
    code, _, err = run_cli([*cli_args, "alerts", "list", "--status", "gone"], capsys)
    assert code == 1 and "--status: 'gone' is not one of pending, sending, sent, dead" in err


def test_revoked_token_stops_and_says_so(cli_args: list[str], slack: SlackStub,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    slack.revoked = True
    code, _, err = check(cli_args, capsys, "--send")
    assert code == 1
    assert "Error: slack stopped: Slack rejected the token (token_revoked)" in err
    assert [r["method"] for r in slack.requests] == ["auth.test"]
    assert set(published(cli_args).values()) == {"pending"}


def test_unseen_filter_values_are_warned_about(cli_args: list[str], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    typo = {**CONFIG, "budgets": [{"name": "prod", "filter": {"cluster": "eks-prood"},
                                   "amount": 100}]}
    (tmp_path / "finops.yaml").write_text(yaml.safe_dump(typo))
    code, _, err = check(cli_args, capsys)
    assert code == 0
    assert ("Warning: budget 'prod': filter cluster='eks-prood' matches no allocation row in "
            "the warehouse") in err


def test_bad_date_and_missing_token(cli_args: list[str], capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli([*cli_args, "budgets", "check", "--as-of", "20-10-2026"], capsys)
    assert code == 1 and "Error: --as-of: '20-10-2026' is not a date (YYYY-MM-DD)" in err
    monkeypatch.delenv("FINOPS_SLACK__TOKEN")
    code, _, err = run_cli([*cli_args, "budgets", "check", "--send"], capsys)
    assert code == 1 and "Error: no Slack token: set FINOPS_SLACK__TOKEN" in err


def test_budget_report(cli_args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*cli_args, "budgets", "report", "--team", "payments",
                              "--as-of", "2026-10-20"], capsys)
    assert code == 0, err
    assert out.startswith("Budget report for payments: 1 budget(s)")
    assert ("payments-monthly 2026-10: $1,388.20 of $1,500.00 (92.5%), forecast $2,151.71"
            in out)


@pytest.mark.slow
def test_a_killed_delivery_loses_nothing_and_sends_nothing_twice(
        cli_args: list[str], slack: SlackStub, capsys: pytest.CaptureFixture[str]) -> None:
    """Killed (SIGKILL) while Slack holds its post: the post was taken, the warehouse lock
    is free meanwhile, and the next run finds the post by its key instead of re-posting."""
    slack.script["chat.postMessage #finops-platform"] = ["hang"]
    env = {**os.environ, "FINOPS_SLACK__TIMEOUT_S": "30"}
    process = subprocess.Popen(finops_command([*cli_args, "budgets", "check", "--as-of",
                                               "2026-10-20", "--send"]), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(slack.calls("chat.postMessage")) < 2:  # the parent went, the digest hangs
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        with Warehouse(Path(cli_args[1]), lock_timeout_s=5):  # not held while it waits
            pass
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert slack.keys() == [PARENT, DIGEST]  # both were taken by Slack
    code, _, err = check(cli_args, capsys, "--send")
    assert code == 0, err
    assert slack.keys() == [PARENT, DIGEST]  # nothing twice
    assert len(slack.calls("chat.postMessage")) == 2
    assert set(published(cli_args).values()) == {"sent"}
