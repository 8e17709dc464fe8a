"""`finops config check`: validates finops.yaml and prints what it would make finops do."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from finops.config_report import SIGNING_SECRET_WARNING
from finops.demo import DEMO_CONFIG
from finops.warehouse import Warehouse
from models.config import hash_token
from models.loads import IngestRun, Load, Replace
from models.schemas import ALLOCATION
from tests.support import run_cli


def write(path: Path, config: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_cli(["config", "check", *args], capsys)


def test_the_demo_config_is_described_without_secrets(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, "--config", str(DEMO_CONFIG))
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == [f"Config: {DEMO_CONFIG} (named by --config / FINOPS_CONFIG)", "Valid."]
    assert "Teams (8):" in lines
    assert "  payments             #payments-costs  aliases: Payments, team-payments" in lines
    assert ("Ownership chain: pod-label -> workload-label -> namespace-label -> "
            "namespace-annotation -> mapping -> backstage") in lines
    assert "    data               gcp_projects: acme-data-platform" in lines
    assert "  shared namespaces (weighted split): kube-system, monitoring, ingress-nginx" in lines
    assert ("  payments-monthly       team payments, per month: 350.00 USD; "
            "actual 50/80/100 %, forecast 100 %; to #payments-costs, immediate") in lines
    assert "  demo-team-payments       team:payments" in lines
    assert hash_token("demo-platform") not in out and "sha256:" not in out
    assert lines[-1] == "No warnings."


def test_a_bad_config_names_the_key_path(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "finops.yaml", {"budgets": [{"name": "b", "team": "x",
                                                        "amount": -5}]})
    code, _, err = check(capsys, "--config", str(path))
    assert code == 1
    assert err.startswith(f"Error: {path}: budgets[0].amount: Input should be greater than 0")


def test_a_missing_config_is_an_error(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(capsys, "--config", str(tmp_path / "nope.yaml"))
    assert (code, err.strip()) == (1, "Error: --config / FINOPS_CONFIG: config file not "
                                      f"found: {tmp_path / 'nope.yaml'}")


def test_warnings_for_what_is_valid_but_not_meant(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # ./finops.yaml is found without --config
    monkeypatch.setenv("FINOPS_SLACK__TOKEN", "xoxb-sends")  # and no signing secret
    write(tmp_path / "finops.yaml", {
        "budgets": [{"name": "pay", "team": "payments", "amount": 100}],
        "ownership": {"backstage_catalog": str(tmp_path / "catalog")}})
    code, out, _ = check(capsys)
    assert code == 0
    assert out.startswith(f"Config: {tmp_path / 'finops.yaml'} (found in the working directory)")
    assert "API tokens: none" in out
    warnings = out[out.index("Warnings (4):"):].splitlines()[1:]
    assert warnings == [
        "  - no api_tokens: `finops serve` will refuse to start (only `--no-auth` on a "
        "loopback address runs it)",
        "  - budget 'pay' names team 'payments', but no teams are declared: it counts only "
        "if that exact label value is seen",
        f"  - ownership.backstage_catalog: {tmp_path / 'catalog'} does not exist",
        f"  - {SIGNING_SECRET_WARNING}"]


def test_budgets_are_checked_against_the_warehouse(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "finops.duckdb"
    rows = pl.DataFrame({"day": [date(2026, 10, 1)] * 2, "team": ["payments", None],
                         "provider": ["aws", "gcp"], "cluster": ["prod", None],
                         "effective_cost": [10.0, 2.0]})
    with Warehouse(db) as warehouse:
        warehouse.load(Load(IngestRun("t", "t", None, None, []), [Replace(ALLOCATION, rows)]))
        warehouse.publish()
    config = write(tmp_path / "finops.yaml", {
        "teams": [{"name": "payments"}, {"name": "search"}],
        "budgets": [{"name": "pay", "team": "payments", "amount": 100},
                    {"name": "find", "team": "search", "amount": 100},
                    {"name": "aws", "filter": {"provider": "aws"}, "amount": 100},
                    {"name": "typo", "filter": {"cluster": "prd"}, "amount": 100},
                    {"name": "col", "filter": {"clusterr": "prod"}, "amount": 100}],
        "api_tokens": [{"name": "ops", "sha256": hash_token("t"), "role": "platform"}]})
    code, out, _ = run_cli(["--db", str(db), "config", "check", "--config", str(config)],
                           capsys)
    assert code == 0
    assert f"Warehouse: {tmp_path / 'finops.published.duckdb'}" in out
    warnings = out[out.index("Warnings (3):"):].splitlines()[1:]
    assert warnings[0] == "  - budget 'find': team 'search' has no allocated cost in the warehouse"
    assert warnings[1].startswith("  - budget 'typo': filter cluster='prd' matches no allocation")
    assert warnings[2].startswith("  - budget 'col': filter column 'clusterr' is not a column "
                                  "of allocation (")


def test_bad_config_is_an_error_naming_the_key(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "finops.yaml"
    config.write_text("allocation:\n  basis: everything\n")
    from finops.cli.common import state

    state.config = config
    state._settings = None
    with pytest.raises(Exception, match=r"allocation\.basis"):
        state.finops_config()
