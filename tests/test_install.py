"""Installed, not only checked out: a wheel built from the repository, installed into a fresh
virtualenv, runs the demo in an empty directory (the warehouse lands in ./data there)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None,
        timeout_s: float = 300) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout_s, check=False)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def user_env() -> dict[str, str]:
    """A user's environment: nothing pointing into the checkout, no FINOPS_* settings."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("FINOPS_")}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the locked dependencies and the wheel (not editable)."""
    uv = shutil.which("uv")
    assert uv, "uv is needed to build the wheel (scripts/bootstrap.sh installs it)"
    base = tmp_path_factory.mktemp("install")
    run([uv, "build", "--wheel", "--out-dir", str(base / "dist"), str(ROOT)], cwd=ROOT)
    [wheel] = (base / "dist").glob("finops-*.whl")
    env = base / "venv"
    # The dependencies exactly as locked (from uv's cache: no network needed), then the wheel
    # alone; `uv pip check` then proves the wheel's own requirements are met.
    run([uv, "sync", "--frozen", "--no-install-project", "--quiet"], cwd=ROOT,
        env={**user_env(), "UV_PROJECT_ENVIRONMENT": str(env)})
    python = str(env / "bin" / "python")
    run([uv, "pip", "install", "--quiet", "--no-deps", "--python", python, str(wheel)], cwd=base)
    run([uv, "pip", "check", "--python", python], cwd=base)
    return env


def installed_files(package: Path) -> set[Path]:
    return {p.relative_to(package) for p in package.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.slow
def test_the_installed_demo_runs_in_an_empty_directory(venv: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    where = run([str(venv / "bin" / "python"), "-c", "import finops; print(finops.__file__)"],
                cwd=empty, env=user_env())
    package = Path(where.strip()).parent
    assert package.is_relative_to(venv) and not package.is_relative_to(ROOT)
    before = installed_files(package)
    said = run([str(venv / "bin" / "finops"), "demo", "--no-serve"], cwd=empty, env=user_env())
    assert "Demo warehouse built in" in said and str(empty / "data" / "finops.duckdb") in said
    assert (empty / "data" / "finops.duckdb").is_file()
    assert (empty / "data" / "finops.published.duckdb").is_file()
    total = run([str(venv / "bin" / "finops"), "sql", "--format", "csv",
                 "select round(sum(difference), 2) as d, count(*) as n from reconciliation"],
                cwd=empty, env=user_env())
    assert total.splitlines()[:2] == ["d,n", "0.00,93"]
    assert installed_files(package) == before  # nothing written inside the installation
