"""``deploy/ray/rayjob.yaml``: the RayJob runs the month on Ray with options ``finops`` has,
every ``FINOPS_`` variable it sets is a setting, and every pod asks for its resources."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from finops.settings import Settings
from tests.support import run_cli

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "ray" / "rayjob.yaml"
JOB = yaml.safe_load(MANIFEST.read_text())


def setting_names(model: type[BaseModel], prefix: str = "FINOPS_") -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        env = f"{prefix}{name.upper()}"
        kind = field.annotation
        nested = isinstance(kind, type) and issubclass(kind, BaseModel)
        names |= setting_names(kind, f"{env}__") if nested else {env}  # type: ignore[arg-type]
    return names


def containers() -> list[dict[str, Any]]:
    cluster = JOB["spec"]["rayClusterSpec"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    return [c for group in groups for c in group["template"]["spec"]["containers"]]


def test_the_job_runs_the_ray_runner_then_the_lake(capsys: pytest.CaptureFixture[str]) -> None:
    assert (JOB["apiVersion"], JOB["kind"]) == ("ray.io/v1", "RayJob")
    entrypoint = JOB["spec"]["entrypoint"]
    assert "finops allocate --runner ray --ray-address auto" in entrypoint
    assert 'finops publish --lake "$FINOPS_LAKE__URI"' in entrypoint
    for command in ("allocate", "publish"):
        part = entrypoint.split(f"finops {command}")[1].split("finops ")[0]
        _, help_text, _ = run_cli([command, "--help"], capsys)
        for option in set(re.findall(r"--[a-z][a-z-]+", part)):
            assert option in help_text, (command, option)


def test_every_variable_is_a_setting_and_every_pod_is_sized() -> None:
    known = setting_names(Settings)
    for container in containers():
        for variable in container.get("env", []):
            assert variable["name"] in known, variable["name"]
        requests = container["resources"]["requests"]
        assert set(requests) == {"cpu", "memory"}
        assert container["resources"]["limits"]["memory"] == requests["memory"]
