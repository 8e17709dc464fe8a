"""The Kyverno export validates against Kyverno's published ClusterPolicy schema (v1 CRD)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from finops.demo import DEMO_CONFIG
from tests.support import run_cli

SCHEMA = Path(__file__).parent / "data" / "kyverno" / "clusterpolicy-v1.schema.json"
UNTIL = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()


def config(directory: Path) -> Path:
    """The demo's finops.yaml with its sandbox exemption in force for a year from today and
    its other exemption expired yesterday (whatever today is)."""
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    sandbox, expired = data["governance"]["exemptions"]
    sandbox["until"] = UNTIL
    expired["until"] = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    path = directory / "finops.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def strict(schema: Any) -> Any:
    """The CRD schema as the API server applies it with strict field validation: unknown
    fields are errors wherever the schema does not preserve them."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = strict(json.loads(SCHEMA.read_text()))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def exported(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[Any]:
    out = tmp_path / "kyverno"
    code, _, err = run_cli(["--config", str(config(tmp_path)), "policy", "export", "--engine",
                            "kyverno", "--out", str(out), *args], capsys)
    assert code == 0, err
    return [d for p in sorted(out.glob("clusterpolicy-*.yaml"))
            for d in yaml.safe_load_all(p.read_text()) if d]


@pytest.mark.parametrize("mode", ["audit", "enforce"])
def test_every_policy_matches_the_published_schema(
        validator: jsonschema.protocols.Validator, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], mode: str) -> None:
    docs = exported(tmp_path, capsys, "--mode", mode)
    assert {d["metadata"]["name"] for d in docs} == {"finops-team-label", "finops-resource-quota"}
    for doc in docs:
        assert (doc["apiVersion"], doc["kind"]) == ("kyverno.io/v1", "ClusterPolicy")
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
        assert errors == [], doc["metadata"]["name"]
        actions = {r["validate"]["failureAction"] for r in doc["spec"]["rules"]}
        assert actions == {"Audit" if mode == "audit" else "Enforce"}


def test_the_strict_schema_rejects_what_kyverno_would(
        validator: jsonschema.protocols.Validator, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The check has teeth: a misspelt field and a bad failureAction fail it."""
    doc = exported(tmp_path, capsys)[0]
    doc["spec"]["rules"][0]["validate"]["failureAction"] = "Deny"
    doc["spec"]["rules"][0]["matchh"] = doc["spec"]["rules"][0].pop("match")
    messages = " ".join(e.message for e in validator.iter_errors(doc))
    assert "'Deny' is not one of" in messages and "'matchh' was unexpected" in messages


def test_team_label_rules_carry_the_config(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Known teams and aliases, excluded namespaces and the exemption in force with its
    expiry; the expired exemption is left out."""
    docs = {d["metadata"]["name"]: d for d in exported(tmp_path, capsys)}
    rules = {r["name"]: r for r in docs["finops-team-label"]["spec"]["rules"]}
    pod = rules["workload-team-label"]
    values = pod["validate"]["deny"]["conditions"]["all"][0]["value"]
    assert "team-payments" in values and "payments" in values and "fraud" not in values
    assert pod["exclude"]["any"][0]["resources"]["namespaces"] == [
        "kube-system", "monitoring", "ingress-nginx", "kube-*", "gmp-*", "argocd",
        "cert-manager"]
    keys = [c["key"] for c in pod["preconditions"]["all"]]
    assert keys == ["{{ pattern_match('sandbox-*', request.namespace) && time_before("
                    f"time_now_utc(), '{UNTIL}T23:59:59Z') }}}}"]
    quota = docs["finops-resource-quota"]["spec"]["rules"][0]
    assert quota["context"][0]["apiCall"]["urlPath"] == \
        "/api/v1/namespaces/{{request.namespace}}/resourcequotas"
