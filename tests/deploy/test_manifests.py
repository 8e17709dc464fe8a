"""deploy/: the kustomization renders (``kubectl kustomize``) and so does the Helm chart
(``helm template``), every manifest of both is valid against the Kubernetes API schemas
(``kubernetes-validate``), and the wiring holds in both: the env the manifests set is the env
the code reads, probes point at real routes, the config is mounted where FINOPS_CONFIG says,
the image's entrypoint and every container's command exist. (tests/deploy/test_helm.py holds
the chart equal to the example overlay, and checks what only the chart has: its values.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from finops.api.routes import health
from finops.settings import get_settings
from models.config import parse_config
from tests.support import exit_code
from tests.support.manifests import (
    DEPLOY,
    ROOT,
    env,
    helm_example,
    kustomize,
    one,
    pods,
    setting_names,
)

KUBERNETES = kubernetes_validate.latest_version()


@pytest.fixture(scope="module", params=["kustomize", "helm"])
def docs(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The example deployment: the kustomize overlay, or the chart with the same values."""
    if request.param == "helm":
        return helm_example()
    return kustomize(tmp_path_factory.mktemp("deploy"), "overlays/example")


@pytest.mark.integration  # runs kubectl or helm
def test_the_deployment_renders_and_every_manifest_is_valid(
        tmp_path_factory: pytest.TempPathFactory, docs: list[dict[str, Any]]) -> None:
    base = kustomize(tmp_path_factory.mktemp("base"), "base")
    kinds = sorted(d["kind"] for d in docs if d["kind"] != "Namespace")  # helm --create-namespace
    assert kinds == sorted(["ServiceAccount", "ServiceAccount", "ClusterRole",
                            "ClusterRoleBinding", "ConfigMap", "Secret", "Service",
                            "PersistentVolumeClaim", "StorageClass", "Deployment", "CronJob",
                            "CronJob"])
    for doc in [*base, *docs]:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)  # raises on any error
    assert all(d["metadata"].get("namespace") in ("finops", None) for d in docs)


@pytest.mark.integration
def test_a_broken_manifest_is_caught(docs: list[dict[str, Any]]) -> None:
    """The validation can fail: a misspelt field of the API's Deployment is refused."""
    broken = yaml.safe_load(yaml.safe_dump(one(docs, "Deployment", "finops-api")))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinessprobe"):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


@pytest.mark.integration
def test_every_env_var_is_a_setting_and_its_value_parses(docs: list[dict[str, Any]]) -> None:
    known = setting_names()
    for name, pod in pods(docs).items():
        for container in pod["containers"]:
            values = {}
            for var, entry in env(container).items():
                if var.startswith("FINOPS_"):
                    assert var in known, f"{name}: {var} is not a setting"
                    values[var] = entry.get("value", "from-a-secret")
            assert get_settings(**_overrides(values))  # every literal value is valid


def _overrides(values: dict[str, str]) -> dict[str, Any]:
    """FINOPS_A__B=v as get_settings(a={"b": v}) keyword arguments."""
    found: dict[str, Any] = {}
    for var, value in values.items():
        *parents, leaf = var.removeprefix("FINOPS_").lower().split("__")
        node = found
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return found


@pytest.mark.integration
def test_what_each_workload_needs_is_set(docs: list[dict[str, Any]]) -> None:
    secret = one(docs, "Secret", "finops-secrets")
    found = pods(docs)
    api = env(found["finops-api"]["containers"][0])
    assert api["FINOPS_API__HOST"]["value"] == "0.0.0.0"  # the default binds to loopback only
    session = api["FINOPS_AUTH__SESSION_SECRET"]["valueFrom"]["secretKeyRef"]
    assert session["name"] == secret["metadata"]["name"] and "optional" not in session
    assert session["key"] in secret["data"]
    run = env(found["finops-run"]["containers"][0])
    slack = run["FINOPS_SLACK__TOKEN"]["valueFrom"]["secretKeyRef"]
    assert slack["name"] == secret["metadata"]["name"] and slack["key"] in secret["data"]
    assert run["FINOPS_API__PUBLIC_URL"]["value"] == api["FINOPS_API__PUBLIC_URL"]["value"]
    for name, pod in found.items():
        variables = env(pod["containers"][0])
        assert {"FINOPS_DB", "FINOPS_CONFIG"} <= set(variables), name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True, name


@pytest.mark.integration
def test_the_config_and_the_warehouse_are_mounted_where_the_env_says(
        docs: list[dict[str, Any]]) -> None:
    configmap = one(docs, "ConfigMap", "finops-config")
    claim = one(docs, "PersistentVolumeClaim", "finops-warehouse")["metadata"]["name"]
    for name, pod in pods(docs).items():
        container = pod["containers"][0]
        variables = env(container)
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        config = Path(variables["FINOPS_CONFIG"]["value"])
        mount = mounts[str(config.parent)]
        assert mount.get("readOnly") is True, name
        assert volumes[mount["name"]]["configMap"]["name"] == configmap["metadata"]["name"]
        assert config.name in configmap["data"], name
        db = Path(variables["FINOPS_DB"]["value"])
        warehouse = volumes[mounts[str(db.parent)]["name"]]
        assert warehouse["persistentVolumeClaim"]["claimName"] == claim, name
        # Only the writers mount it writable; the API reads the published snapshot.
        assert mounts[str(db.parent)].get("readOnly", False) is (name == "finops-api"), name


@pytest.mark.integration
def test_the_warehouse_volume_is_xfs_so_a_publish_clones(docs: list[dict[str, Any]]) -> None:
    claim = one(docs, "PersistentVolumeClaim", "finops-warehouse")
    storage = one(docs, "StorageClass", claim["spec"]["storageClassName"])
    assert storage["parameters"]["csi.storage.k8s.io/fstype"] == "xfs"
    assert "namespace" not in storage["metadata"]  # cluster-scoped


@pytest.mark.integration
def test_the_configmap_is_a_valid_finops_yaml_without_secrets(docs: list[dict[str, Any]]) -> None:
    text = one(docs, "ConfigMap", "finops-config")["data"]["finops.yaml"]
    config = parse_config(yaml.safe_load(text), "deploy finops.yaml")
    assert all(len(token.sha256) == 64 for token in config.api_tokens)  # digests only
    assert "xoxb" not in text and "session-secret" not in text
    assert config.sources.prometheus is not None  # the overlay's own file replaced the base's


@pytest.mark.integration
def test_probes_and_ports_point_at_the_api(docs: list[dict[str, Any]]) -> None:
    routes = {route.path for route in health.router.routes}  # type: ignore[attr-defined]
    api = pods(docs)["finops-api"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in api["ports"]}
    assert ports["http"] == int(env(api)["FINOPS_API__PORT"]["value"])
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert {"/readyz", "/healthz"} <= routes
    service = one(docs, "Service", "finops-api")
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["selector"].items() <= one(
        docs, "Deployment", "finops-api")["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.integration
def test_the_schedules_never_overlap_and_the_collector_only_reads(
        docs: list[dict[str, Any]]) -> None:
    for name in ("finops-run", "finops-collect"):
        assert one(docs, "CronJob", name)["spec"]["concurrencyPolicy"] == "Forbid"
    rules = one(docs, "ClusterRole", "finops-collector")["rules"]
    assert {verb for rule in rules for verb in rule["verbs"]} == {"get", "list"}
    assert pods(docs)["finops-collect"]["serviceAccountName"] == "finops-collector"
    assert pods(docs)["finops-api"]["automountServiceAccountToken"] is False


DOCKERFILE = (DEPLOY / "Dockerfile").read_text()


@pytest.mark.integration
def test_each_container_runs_a_real_command(docs: list[dict[str, Any]]) -> None:
    for name, pod in pods(docs).items():
        args = [re.sub(r"\$\((\w+)\)", "x", a) for a in pod["containers"][0]["args"]]
        assert exit_code([*args, "--help"]) == 0, f"{name}: finops {' '.join(args)}"
    assert pods(docs)["finops-run"]["containers"][0]["args"] == ["run"]


def test_the_image_is_non_root_from_the_lock_file_with_the_wheel() -> None:
    entrypoint = re.search(r'^ENTRYPOINT \["(\w+)"\]', DOCKERFILE, re.M)
    assert entrypoint is not None
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(rf'^{entrypoint.group(1)} = "finops.cli:main"', pyproject, re.M)
    user = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert "COPY pyproject.toml uv.lock" in DOCKERFILE and "uv sync --frozen" in DOCKERFILE
    assert "--extra dev" not in DOCKERFILE  # the test tools stay out of the image
    assert "uv build --wheel" in DOCKERFILE
    copied = set(re.findall(r"^COPY (\w+) \./", DOCKERFILE, re.M))
    wheel = re.search(r"packages = \[(.*)\]", pyproject)
    assert wheel is not None
    assert set(re.findall(r'"(\w+)"', wheel.group(1))) | {"sql"} <= copied
