"""A command imports what it runs: ``finops allocate`` starts without the API, the dashboards
or Slack (their imports cost a daily cron seconds of start-up)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import finops.cli
from finops.cli import MODULES

SERVING = ("fastapi", "uvicorn", "starlette", "plotly", "slack_sdk", "httpx")
LOADED = ("import json, sys\nfrom finops.cli import commands\ncommands(sys.argv[1:])\n"
          "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules}) + "
          "sorted(m for m in sys.modules if m.startswith('finops.cli.'))))")


def loaded_by(*args: str) -> set[str]:
    """The top-level packages and the ``finops.cli`` modules a process has imported once the
    commands ``finops ARGS`` runs are registered (in a fresh interpreter)."""
    done = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True,
                          text=True, check=True, timeout=120)
    return set(json.loads(done.stdout))


@pytest.mark.integration
def test_allocate_imports_neither_the_api_nor_the_dashboards_nor_slack() -> None:
    loaded = loaded_by("--db", "x.duckdb", "--no-publish", "allocate", "--changed")
    assert "finops.cli.allocate" in loaded and "polars" in loaded
    assert not loaded & set(SERVING), loaded & set(SERVING)
    assert "finops.cli.serve" not in loaded and "finops.cli.run" not in loaded


@pytest.mark.integration
def test_help_registers_every_command_module() -> None:
    loaded = loaded_by("--help")
    expected = {f"finops.cli.{module}" for group in MODULES.values() for module in group}
    assert expected <= loaded, expected - loaded


def test_every_command_module_is_listed() -> None:
    # A command module missing from MODULES would be missing from `finops --help` and from
    # the command line itself.
    cli = Path(finops.cli.__file__).parent
    found = {str(p.relative_to(cli).with_suffix("")).replace("/", ".")
             for p in cli.rglob("*.py") if "@" in p.read_text() and ".command(" in p.read_text()}
    listed = {module for group in MODULES.values() for module in group}
    assert found and found == listed, found ^ listed
