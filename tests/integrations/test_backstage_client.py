"""The TypeScript Cost Insights client (``integrations/backstage``), built with tsc and tested
with node's own test runner against a real ``finops serve`` on the demo warehouse."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from finops.demo import DEMO_CONFIG
from tests.support import ServeProcess

PACKAGE = Path(__file__).resolve().parents[2] / "integrations" / "backstage"


def npm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    npm_bin = shutil.which("npm")
    assert npm_bin, "node and npm are needed for the Backstage client (scripts/bootstrap.sh)"
    return subprocess.run([npm_bin, *args], cwd=PACKAGE, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.mark.integration
@pytest.mark.slow
def test_the_typescript_client_against_a_running_server(demo_db: Path, tmp_path: Path) -> None:
    if not (PACKAGE / "node_modules" / "typescript").exists():  # bootstrap does this
        assert npm("ci", "--no-audit", "--no-fund").returncode == 0
    env = {"FINOPS_DB": str(demo_db.with_name("finops.duckdb")),
           "FINOPS_CONFIG": str(DEMO_CONFIG)}
    with ServeProcess(env, tmp_path / "serve.log") as server:
        result = npm("test", env={**os.environ, "FINOPS_URL": server.base,
                                  "FINOPS_PLATFORM_TOKEN": "demo-platform",
                                  "FINOPS_TEAM_TOKEN": "demo-team-payments"})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# pass 9" in result.stdout and "# fail 0" in result.stdout
