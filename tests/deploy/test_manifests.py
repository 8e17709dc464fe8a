"""The deployment manifests name their config explicitly, and it holds no secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from models.config import parse_config

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "cronjob.yaml"
DOCS = list(yaml.safe_load_all(MANIFEST.read_text()))


def kind(name: str) -> dict[str, Any]:
    [doc] = [d for d in DOCS if d["kind"] == name]
    return doc


def test_the_cronjob_names_a_config_mounted_from_the_configmap() -> None:
    pod = kind("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    config = Path(env["FINOPS_CONFIG"])
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    [name] = [n for n, m in mounts.items() if config.parent == Path(m["mountPath"])]
    assert mounts[name].get("readOnly") is True
    configmap = kind("ConfigMap")
    assert volumes[name]["configMap"]["name"] == configmap["metadata"]["name"]
    assert config.name in configmap["data"]


def test_the_configmap_is_a_valid_finops_yaml_without_secrets() -> None:
    text = kind("ConfigMap")["data"]["finops.yaml"]
    config = parse_config(yaml.safe_load(text), "deploy/cronjob.yaml finops.yaml")
    assert all(len(token.sha256) == 64 for token in config.api_tokens)  # digests only
    assert "token:" not in text and "password" not in text.lower()
