"""The two-currency organisation (tests.support.currency_org) served: every API payload, CSV,
page and Slack message names the reporting currency; a budget in EUR is compared at the
rate the GCP export states, and says so."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.settings import Settings
from models.config import hash_token
from tests.support import currency_org as org
from tests.support import exit_code, run_cli
from tests.support.slack import SlackStub, slack_server

pytestmark = pytest.mark.integration  # create_app starts SQL workers; `finops sql` one more
TOKEN = "fin-cur-1"
WINDOW = {"start": "2026-10-01", "end": "2026-10-03"}
BUDGET = {"name": "checkout-eur", "team": "checkout", "amount": 300, "currency": "EUR",
          "thresholds": [{"percent": 50}]}


@pytest.fixture(scope="module")
def organisation(tmp_path_factory: pytest.TempPathFactory) -> org.Organisation:
    directory = tmp_path_factory.mktemp("currency")
    organisation = org.build(directory)
    config = org.write_config(
        directory / "finops.yaml",
        teams=[{"name": "checkout", "slack_channel": "#checkout"}, {"name": "search"}],
        budgets=[BUDGET],
        api_tokens=[{"name": "fin", "sha256": hash_token(TOKEN), "role": "finance"}])
    base = ["--db", str(organisation.db), "--config", str(config)]
    for args in [*organisation.ingest_args(), ["allocate", "--start", WINDOW["start"],
                                               "--end", WINDOW["end"]]]:
        assert exit_code([*base, *args]) == 0, args
    return organisation


@pytest.fixture(scope="module")
def client(organisation: org.Organisation) -> Iterator[TestClient]:
    settings = Settings(db=organisation.db, config=organisation.directory / "finops.yaml")
    with TestClient(create_app(settings)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield test_client


def _usd(organisation: org.Organisation, team: str | None) -> float:
    return round(org.team_totals(organisation.lines)[team], 2)


def test_every_payload_names_the_reporting_currency(client: TestClient,
                                                    organisation: org.Organisation) -> None:
    for path in ("/api/allocation", "/api/teams", "/api/teams/checkout", "/api/unowned",
                 "/api/coverage", "/api/teams/checkout/explain", "/api/budgets"):
        body = client.get(path, params=WINDOW if "budgets" not in path else {}).json()
        assert body["currency"] == "USD", path
    teams = client.get("/api/teams", params=WINDOW).json()["teams"]
    assert {t["team"]: t["effective_cost"] for t in teams} == {
        "checkout": _usd(organisation, "checkout"), "search": _usd(organisation, "search")}
    unowned = client.get("/api/unowned", params=WINDOW).json()
    assert unowned["total_effective_cost"] == _usd(organisation, None)


def test_a_budget_in_eur_is_compared_at_the_stated_rate(client: TestClient,
                                                        organisation: org.Organisation) -> None:
    [budget] = client.get("/api/budgets", params={"as_of": "2026-10-03"}).json()["budgets"]
    assert budget["currency"] == "EUR"
    assert budget["fx"] == {"from": "USD", "to": "EUR", "rate": pytest.approx(org.EUR_PER_USD),
                            "source": "export:gcp-billing"}
    eur = org.team_totals(organisation.lines)["checkout"] * org.EUR_PER_USD
    assert budget["actual"] == round(eur, 2)


def test_pages_show_the_currency_from_the_data(client: TestClient,
                                               organisation: org.Organisation) -> None:
    finance = client.get("/dashboards/finance", params=WINDOW).text
    assert 'data-currency="USD"' in finance and "amounts in US Dollar (USD ($))" in finance
    total = sum(org.team_totals(organisation.lines).values())
    assert f"${total:,.2f}" in finance  # the KPI, formatted by the helper
    assert "effective cost, USD ($)" in finance  # axis titles
    team = client.get("/dashboards/teams/checkout", params=WINDOW).text
    assert f"${_usd(organisation, 'checkout'):,.2f}" in team
    # the budget's state and its burn-down, in the budget's own currency (plotly's JSON
    # escapes the euro sign)
    assert '<td class="num">\u20ac300.00</td>' in team
    assert '"title":{"text":"left of the budget, EUR (\\u20ac)"}' in team


def test_csv_from_sql_and_report_carries_the_currency(organisation: org.Organisation,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--db", str(organisation.db), "--config",
            str(organisation.directory / "finops.yaml")]
    code, out, err = run_cli([*base, "sql", "--format", "csv", "SELECT team, currency, "
                              "round(sum(effective_cost), 2) AS usd FROM cost_by_team_daily "
                              "GROUP BY ALL ORDER BY team"], capsys)
    assert code == 0, err
    assert list(csv.DictReader(io.StringIO(out))) == [
        {"team": t, "currency": "USD", "usd": f"{_usd(organisation, t)}"}
        for t in ("checkout", "search")]
    code, out, err = run_cli([*base, "report", "unowned", "--format", "csv", "--start",
                              WINDOW["start"], "--end", WINDOW["end"]], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["currency"] for r in rows} == {"USD"}
    # the note adds the items as rounded to the cent (a cent per item at most)
    noted = float(err.split(" unowned items, $")[1].split(" in ")[0].replace(",", ""))
    assert noted == pytest.approx(_usd(organisation, None), abs=0.01 * len(rows))


@pytest.fixture
def slack() -> Iterator[SlackStub]:
    with slack_server() as stub:
        yield stub


def test_slack_messages_name_the_currency_and_the_rate(
        organisation: org.Organisation, slack: SlackStub, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FINOPS_SLACK__TOKEN", "xoxb-test")
    monkeypatch.setenv("FINOPS_SLACK__BASE_URL", slack.url)
    base = ["--db", str(organisation.db), "--config",
            str(organisation.directory / "finops.yaml")]
    code, _, err = run_cli([*base, "budgets", "check", "--send", "--as-of", "2026-10-03"],
                           capsys)
    assert code == 0, err
    texts = {body["channel"]: body["text"] for body in slack.posted}
    eur = org.team_totals(organisation.lines)["checkout"] * org.EUR_PER_USD
    assert f"€{eur:,.2f} of €300.00" in texts["#checkout"]
    assert "converted from USD at 1 USD = 0.92 EUR (export:gcp-billing)" in texts["#checkout"]
    digest = texts["#finops-platform"]
    assert f"${_usd(organisation, None):,.2f}" in digest and "€" not in digest
