"""deploy/helm/finops: the chart is the kustomize deployment from values. Rendered with the
example overlay's values it equals the overlay rendered by kustomize, object for object, once
what only tells the two tools apart is set aside (Helm's release labels, kustomize's name
hashes, the Namespace Helm makes with ``--create-namespace``). What only the chart has is
checked here: required values, an existing Secret, the collector switched off, two releases
side by side, the values schema. (tests/deploy/test_manifests.py checks the wiring of both.)"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from finops.cli.ingest.k8s import DURATION
from tests.support.manifests import (
    CHART,
    env,
    helm,
    helm_binary,
    helm_example,
    helm_fails,
    kustomize,
    one,
    pods,
    setting_names,
)

KUBERNETES = kubernetes_validate.latest_version()
# Labels naming the app, the release and the tool. Helm puts them on objects, pods and
# selectors, kustomize its two on objects only: dropped here, selectors and pod labels keep
# the component, which is what the two renderings must agree on.
RELEASE_LABELS = {"helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                  "app.kubernetes.io/managed-by", "app.kubernetes.io/name",
                  "app.kubernetes.io/part-of"}
# What the chart needs to render (a later --set of the same value wins).
REQUIRED = ["--set", "api.publicUrl=https://finops.example.com",
            "--set", "collect.clusterName=prod-eu-1", "--set", "secrets.sessionSecret=s"]


def _without_tool_marks(node: Any, renames: dict[str, str]) -> Any:
    """``node`` with the release labels dropped, Helm's checksum annotations dropped (they
    restart the API on a new config, as kustomize's renaming does; the pod's annotations go
    with them when that was all) and kustomize's hashed names mapped back
    (``finops-config-2d89bthkd5`` -> ``finops-config``)."""
    if isinstance(node, dict):
        kept = {key: _without_tool_marks(value, renames) for key, value in node.items()
                if key not in RELEASE_LABELS and not str(key).startswith("checksum/")}
        return {key: value for key, value in kept.items()
                if not (key == "annotations" and value == {})}
    if isinstance(node, list):
        return [_without_tool_marks(item, renames) for item in node]
    return renames.get(node, node) if isinstance(node, str) else node


def _by_object(docs: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    generated = {d["metadata"]["name"]: re.sub(r"-[a-z0-9]{10}$", "", d["metadata"]["name"])
                 for d in docs if d["kind"] in ("ConfigMap", "Secret")}
    found = {}
    for doc in docs:
        if doc["kind"] == "Namespace":  # helm install --create-namespace makes it
            continue
        doc = dict(doc, metadata={k: v for k, v in doc["metadata"].items() if k != "labels"})
        clean = _without_tool_marks(doc, generated)
        found[(clean["kind"], clean["metadata"]["name"])] = clean
    return found


@pytest.mark.integration  # runs helm and kubectl
def test_the_chart_with_the_example_values_is_the_example_overlay(
        tmp_path: Path) -> None:
    from_kustomize = _by_object(kustomize(tmp_path, "overlays/example"))
    from_helm = _by_object(helm_example())
    assert sorted(from_helm) == sorted(from_kustomize)
    for key, expected in from_kustomize.items():
        assert from_helm[key] == expected, key


@pytest.mark.integration  # runs helm and kubectl
def test_the_comparison_can_fail(tmp_path: Path) -> None:
    """What sets the two apart is all that is set aside: another run schedule in the chart
    makes exactly that object differ."""
    from_kustomize = _by_object(kustomize(tmp_path, "overlays/example"))
    other = _by_object(helm_example("--set", "run.schedule=0 * * * *"))
    assert [key for key in from_kustomize if other[key] != from_kustomize[key]] == [
        ("CronJob", "finops-run")]


@pytest.mark.integration  # runs helm
def test_the_chart_lints_strictly_and_renders_valid_manifests_with_its_defaults() -> None:
    done = subprocess.run([helm_binary(), "lint", "--strict", str(CHART), *REQUIRED],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    docs = helm(*REQUIRED)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == "finops"
    assert "StorageClass" not in {d["kind"] for d in docs}  # the cluster's default class
    assert "storageClassName" not in one(docs, "PersistentVolumeClaim", "finops")["spec"]


@pytest.mark.integration  # runs helm
@pytest.mark.parametrize("unset", ["api.publicUrl", "collect.clusterName",
                                   "secrets.sessionSecret"])
def test_a_missing_required_value_stops_the_render_and_is_named(unset: str) -> None:
    values = {"api.publicUrl": "https://finops.example.com", "collect.clusterName": "prod",
              "secrets.sessionSecret": "s"}
    values.pop(unset)
    args = [a for k, v in values.items() for a in ("--set", f"{k}={v}")]
    assert unset in helm_fails(*args)


@pytest.mark.integration  # runs helm
def test_no_session_key_is_ever_made_up() -> None:
    """No default credentials: an empty key fails, and no value renders one."""
    assert "secrets.sessionSecret" in helm_fails(*REQUIRED, "--set", "secrets.sessionSecret=")


@pytest.mark.integration  # runs helm
def test_an_existing_secret_is_referenced_and_no_secret_is_made() -> None:
    docs = helm(*REQUIRED, "--set", "secrets.existingSecret=team-managed")
    assert "Secret" not in {d["kind"] for d in docs}
    found = pods(docs)
    session = env(found["finops-api"]["containers"][0])["FINOPS_AUTH__SESSION_SECRET"]
    assert session["valueFrom"]["secretKeyRef"] == {"name": "team-managed",
                                                    "key": "session-secret"}
    slack = env(found["finops-run"]["containers"][0])["FINOPS_SLACK__TOKEN"]
    assert slack["valueFrom"]["secretKeyRef"] == {"name": "team-managed", "key": "slack-token",
                                                  "optional": True}


@pytest.mark.integration  # runs helm
def test_without_a_slack_token_the_secret_has_only_the_session_key() -> None:
    docs = helm(*REQUIRED)
    assert set(one(docs, "Secret", "finops-secrets")["data"]) == {"session-secret"}


@pytest.mark.integration  # runs helm
def test_the_collector_switched_off_leaves_no_cluster_wide_rights() -> None:
    docs = helm("--set", "api.publicUrl=https://finops.example.com", "--set",
                "collect.enabled=false", "--set", "secrets.sessionSecret=s")
    kinds = {d["kind"] for d in docs}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
    assert set(pods(docs)) == {"finops-api", "finops-run"}
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "ServiceAccount"] == ["finops"]


@pytest.mark.integration  # runs helm
def test_two_releases_share_a_namespace_without_touching_each_other() -> None:
    first = helm(*REQUIRED, release="costs-a")
    second = helm(*REQUIRED, release="costs-b")
    assert not {(d["kind"], d["metadata"]["name"]) for d in first} & {
        (d["kind"], d["metadata"]["name"]) for d in second}
    service = one(first, "Service", "costs-a-finops-api")["spec"]["selector"]
    theirs = one(second, "Deployment", "costs-b-finops-api")["spec"]["template"]["metadata"]
    assert not service.items() <= theirs["labels"].items()
    binding = one(first, "ClusterRoleBinding", "costs-a-finops-collector")
    assert binding["subjects"][0]["name"] == "costs-a-finops-collector"
    # The CronJobs' pods go to their own release's API pod (the volume is ReadWriteOnce).
    api = one(first, "Deployment", "costs-a-finops-api")["spec"]["template"]["metadata"]
    for name, pod in pods(first).items():
        if name != "costs-a-finops-api":
            [term] = pod["affinity"]["podAffinity"][
                "requiredDuringSchedulingIgnoredDuringExecution"]
            wanted = term["labelSelector"]["matchLabels"].items()
            assert wanted <= api["labels"].items() and not wanted <= theirs["labels"].items()


@pytest.mark.integration  # runs helm
def test_a_new_finops_yaml_restarts_the_api() -> None:
    def checksum(config: str) -> str:
        docs = helm(*REQUIRED, "--set", f"config={config}")
        return one(docs, "Deployment", "finops-api")["spec"]["template"]["metadata"][
            "annotations"]["checksum/config"]

    assert checksum("teams: []") != checksum("teams: [{name: payments}]")


@pytest.mark.integration  # runs helm
def test_more_settings_and_other_variables_reach_the_container() -> None:
    docs = helm(*REQUIRED,
                "--set", "run.extraEnv[0].name=FINOPS_RETENTION__USAGE_MONTHS",
                "--set-string", "run.extraEnv[0].value=3",
                "--set", "run.extraEnv[1].name=AWS_REGION",
                "--set", "run.extraEnv[1].value=eu-west-1")
    variables = env(pods(docs)["finops-run"]["containers"][0])
    assert variables["FINOPS_RETENTION__USAGE_MONTHS"]["value"] == "3"
    assert variables["AWS_REGION"]["value"] == "eu-west-1"
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


@pytest.mark.integration  # runs helm
def test_the_configmap_holds_the_file_exactly(tmp_path: Path) -> None:
    text = "# a comment kept\nteams:\n  - name: payments\n\n\n"
    path = tmp_path / "finops.yaml"
    path.write_text(text)
    docs = helm(*REQUIRED, "--set-file", f"config={path}")
    assert one(docs, "ConfigMap", "finops-config")["data"]["finops.yaml"] == text


@pytest.mark.integration  # runs helm
@pytest.mark.parametrize(("value", "field"), [
    ("api.prot=8000", "prot"),  # a misspelt key is refused, not ignored
    ("collect.every=5 minutes", "every"),
    ("run.extraEnv[0].name=FINOPS_SLAK__TOKEN", "name"),  # pydantic would ignore it
    ("api.extraEnv[0].name=1 TOKEN", "name"),
    ("warehouse.size=lots", "size"),
])
def test_the_values_schema_refuses_what_would_not_work(value: str, field: str) -> None:
    error = helm_fails(*REQUIRED, "--set", value)
    assert "values don't meet the specifications of the schema" in error and field in error


def test_the_schema_knows_the_settings_and_the_durations_the_code_reads() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["properties"]["collect"]["properties"]["every"]["pattern"] == DURATION.pattern
    names = schema["definitions"]["env"]["items"]["properties"]["name"]["then"]["enum"]
    assert set(names) == setting_names(), (
        "values.schema.json's FINOPS_ names differ from the settings (setting_names)")
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    assert DURATION.match(defaults["collect"]["every"])
