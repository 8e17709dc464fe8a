"""deploy/policy holds the demo config's policies in audit mode, as `finops policy export`
makes them (so the folder never goes stale)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from finops.demo import DEMO_CONFIG
from finops.policy.export import Engine, files
from finops.policy.parameters import Target
from ingestion.ownership.backstage import read_catalog
from models.config import load_config

POLICY = Path(__file__).resolve().parents[2] / "deploy" / "policy"
EXPORTED_ON = date(2026, 12, 1)  # the day deploy/policy/README.md says they were exported


@pytest.mark.parametrize("engine", ["gatekeeper", "kyverno"])
def test_the_committed_policies_are_a_fresh_export(engine: Engine) -> None:
    config = load_config(DEMO_CONFIG)
    fresh = files(config, read_catalog(config.ownership.backstage_catalog), engine, "audit",
                  Target(None, EXPORTED_ON))
    committed = {p.name: p.read_text() for p in (POLICY / engine).glob("*.yaml")}
    assert committed == fresh


def test_everything_starts_in_audit_mode() -> None:
    docs = [d for p in POLICY.rglob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d]
    constraints = [d for d in docs if d["apiVersion"].startswith("constraints.gatekeeper.sh")]
    assert {d["spec"]["enforcementAction"] for d in constraints} == {"dryrun"}
    rules = [r for d in docs if d["kind"] == "ClusterPolicy" for r in d["spec"]["rules"]]
    assert {r["validate"]["failureAction"] for r in rules} == {"Audit"}
    assert len(constraints) == 2 and len(rules) == 3
