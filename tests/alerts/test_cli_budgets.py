"""`finops budgets check` as a user runs it: a real warehouse file, a real Slack stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from finops import alerts
from finops.warehouse import Warehouse, open_snapshot
from tests.support import run_cli
from tests.support.budget_data import CONFIG, allocation_rows, load_allocation
from tests.support.slack import SlackStub

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_args(tmp_path: Path, slack: SlackStub, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    db, config = tmp_path / "finops.duckdb", tmp_path / "finops.yaml"
    with Warehouse(db) as wh:
        load_allocation(wh, allocation_rows())
        wh.publish()
    config.write_text(yaml.safe_dump(CONFIG))
    for key, value in {"SLACK__TOKEN": "xoxb-cli", "SLACK__BASE_URL": slack.url,
                       "SLACK__MAX_ATTEMPTS": "2", "SLACK__TIMEOUT_S": "1",
                       "API__PUBLIC_URL": "https://finops.example.com"}.items():
        monkeypatch.setenv(f"FINOPS_{key}", value)
    return ["--db", str(db), "--config", str(config)]


def published_alerts(cli_args: list[str]) -> dict[str, str]:
    con = open_snapshot(Path(cli_args[1]).with_name("finops.published.duckdb"))
    try:
        return {a["alert_key"]: a["status"] for a in alerts.list_alerts(con, None)}
    finally:
        con.close()


def test_dry_run_prints_and_sends_nothing(cli_args: list[str], slack: SlackStub,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*cli_args, "budgets", "check", "--as-of", "2026-10-20"], capsys)
    assert code == 0, err
    assert slack.requests == []
    assert "4 alerts due, 4 new in the outbox." in err
    assert "Dry run (no --send): 4 pending messages, none sent." in err
    assert "--- to #team-payments  [budget:payments-monthly:2026-10:forecast:100]" in out
    assert "$1,388.20 of $1,500.00 (92.5%)" in out
    assert "namespace payments-api: $827.40" in out
    assert "Open team dashboard: https://finops.example.com/dashboards/team/payments" in out
    assert set(published_alerts(cli_args).values()) == {"pending"}


def test_send_delivers_once_then_nothing(cli_args: list[str], slack: SlackStub,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    run_cli([*cli_args, "budgets", "check"], capsys)  # dry run first: queued, not sent
    code, out, err = run_cli([*cli_args, "budgets", "check", "--send", "--format", "csv"], capsys)
    assert code == 0, err
    assert "0 new in the outbox" in err and "Sent 4 alerts to Slack." in err
    assert out.startswith("budget,scope,period,")  # stdout is pure CSV
    assert "payments-monthly,payments,2026-10,\"$1,388.20\",\"$1,500.00\",92.5,\"$2,151.71\"" in out
    assert len(slack.requests) == 4
    code, _, err = run_cli([*cli_args, "budgets", "check", "--send"], capsys)
    assert code == 0 and "Sent 0 alerts" in err and len(slack.requests) == 4
    assert set(published_alerts(cli_args).values()) == {"sent"}


def test_failed_delivery_exits_1_and_is_retried(cli_args: list[str], slack: SlackStub,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    slack.modes = ["not_ok"]
    code, out, err = run_cli([*cli_args, "budgets", "check", "--send"], capsys)
    assert code == 1
    assert "Error: 1 alerts not delivered, kept in the outbox for the next run" in err
    assert "channel_not_found" in err
    assert "Sent 3 alerts" in err
    assert sorted(published_alerts(cli_args).values()) == ["pending", "sent", "sent", "sent"]
    code, _, err = run_cli([*cli_args, "budgets", "check", "--send"], capsys)
    assert code == 0 and "Sent 1 alerts" in err
    assert len(slack.posted) == 4 and len(slack.requests) == 5


def test_dry_run_with_json_keeps_stdout_parseable(cli_args: list[str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*cli_args, "budgets", "check", "--format", "json"], capsys)
    assert code == 0, err
    rows = {r["budget"]: r for r in json.loads(out)}
    assert rows["payments-monthly"]["actual"] == "$1,388.20"
    assert "[digest:unowned:2026-W43]" in err


def test_bad_date_and_missing_token(cli_args: list[str], capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli([*cli_args, "budgets", "check", "--as-of", "20-10-2026"], capsys)
    assert code == 1 and "Error: --as-of: '20-10-2026' is not a date (YYYY-MM-DD)" in err
    monkeypatch.delenv("FINOPS_SLACK__TOKEN")
    code, _, err = run_cli([*cli_args, "budgets", "check", "--send"], capsys)
    assert code == 1 and "Error: no Slack token: set FINOPS_SLACK__TOKEN" in err
