"""``finops governance``, ``finops policy export`` and ``finops ingest backstage`` as a user
runs them: on the hand-checked governance scenario and the demo's catalog."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from finops.demo import DEMO_CATALOG
from tests.support import run_cli
from tests.support.governance_data import build


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    db, config = build(tmp_path_factory.mktemp("governance-cli"))
    return ["--db", str(db), "--config", str(config)]


def test_json_has_every_finding_with_money_and_currency(
        scenario: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([*scenario, "governance", "--format", "json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["window"] == {"start": "2026-10-01", "end": "2026-10-10"}  # month to date
    assert report["currency"] == "EUR"
    over = {f["subject"]: f for f in report["findings"] if f["kind"] == "quota-over-budget"}
    assert over["team search"]["detail"] == "quota allows 270.82 EUR/month, budget is 100.00 EUR"
    assert over["team search"]["amount"] == 170.82
    assert "findings in 2026-10-01..2026-10-10" in err


def test_csv_is_one_row_per_finding(scenario: list[str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli([*scenario, "governance", "--format", "csv", "--start",
                            "2026-10-01", "--end", "2026-10-10"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["kind", "subject", "team", "amount", "currency", "exemption",
                             "detail"]
    kinds = {r["kind"] for r in rows}
    assert {"unbounded-namespace", "quota-over-budget", "team-without-budget",
            "budget-without-spend", "catalog-owner-mismatch"} <= kinds
    lab = next(r for r in rows if r["subject"] == "c1/lab" and r["kind"] == "unbounded-namespace")
    assert (lab["amount"], lab["currency"]) == ("2.40", "EUR")


def test_table_and_bad_windows(scenario: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli([*scenario, "governance"], capsys)
    assert code == 0 and "quota/month" in out and "270.82" in out
    assert ("  team search [search]: 170.82 EUR: quota allows 270.82 EUR/month, budget is "
            "100.00 EUR") in out.splitlines()
    code, _, err = run_cli([*scenario, "governance", "--start", "2026-10-09", "--end",
                            "2026-10-02"], capsys)
    assert code == 1 and "Error: --start 2026-10-09 is after --end 2026-10-02" in err
    code, _, err = run_cli([*scenario, "governance", "--end", "October"], capsys)
    assert code == 1 and "'October' is not a date (YYYY-MM-DD)" in err


def test_no_published_warehouse_is_an_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["--db", str(tmp_path / "none.duckdb"), "governance"], capsys)
    assert code == 1 and err.splitlines()[-1].startswith("Error: no published warehouse")


def test_policy_export_writes_a_kustomization_and_refuses_a_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gk"
    config = tmp_path / "finops.yaml"
    config.write_text(yaml.safe_dump({"teams": [{"name": "a"}], "ownership": {"mappings": [
        {"team": "a", "namespaces": ["a-*"], "clusters": ["east"]}]}}))
    code, _, err = run_cli(["--config", str(config), "policy", "export", "--engine",
                            "gatekeeper", "--out", str(out)], capsys)
    assert code == 0, err
    assert "mappings restricted to clusters left out (no --cluster): ['a']" in err
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in out.glob("*.yaml") if p.name != "kustomization.yaml")
    constraint = yaml.safe_load((out / "constraint-team-label.yaml").read_text())
    assert constraint["spec"]["enforcementAction"] == "dryrun"
    assert constraint["spec"]["parameters"]["mappedNamespaces"] == []
    code, _, _ = run_cli(["--config", str(config), "policy", "export", "--engine",
                          "gatekeeper", "--out", str(tmp_path / "east"), "--cluster", "east",
                          "--mode", "enforce"], capsys)
    east = yaml.safe_load((tmp_path / "east" / "constraint-team-label.yaml").read_text())
    assert code == 0 and east["spec"]["parameters"]["mappedNamespaces"] == ["a-*"]
    assert east["spec"]["enforcementAction"] == "deny"
    code, _, err = run_cli(["--config", str(config), "policy", "export", "--engine",
                            "gatekeeper", "--out", str(config)], capsys)
    assert code == 1 and f"Error: --out {config}: exists and is not a directory" in err
    code, _, err = run_cli(["policy", "export", "--engine", "opa", "--out", str(out)], capsys)
    assert code in (1, 2) and "'opa' is not one of 'gatekeeper', 'kyverno'" in err


@pytest.mark.integration  # `finops sql` starts a SQL worker process
def test_ingest_backstage_loads_the_catalog(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(tmp_path / "finops.duckdb")]
    code, _, err = run_cli([*db, "ingest", "backstage", str(DEMO_CATALOG)], capsys)
    assert code == 0 and "backstage: loaded 12 entities" in err
    code, out, _ = run_cli([*db, "sql", "--format", "csv",
                            "select kind, count(*) as n from backstage_entity group by 1 "
                            "order by 1"], capsys)
    assert out.splitlines() == ["kind,n", "Component,5", "Group,4", "User,3"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed")
    code, _, err = run_cli([*db, "ingest", "backstage", str(bad)], capsys)
    assert code == 1 and f"Error: {bad}: not a Backstage catalog file" in err
    code, _, err = run_cli([*db, "ingest", "backstage"], capsys)
    assert code == 1 and "Error: no catalog: give a PATH" in err
