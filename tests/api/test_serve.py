"""``finops serve`` pieces that run without a server (the browser test runs the real one)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from finops.cli import commands


def test_serve_help_lists_host_and_port() -> None:
    result = CliRunner().invoke(commands(), ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output


@pytest.mark.integration
def test_the_server_settles_its_start_up_heap_out_of_the_collectors_reach() -> None:
    """In a fresh interpreter (it changes the process's collector): after ``settle_heap``
    what start-up built is frozen and a full collection no longer walks it."""
    probe = ("import gc; from finops.api.app import settle_heap; settle_heap(); "
             "print(gc.get_freeze_count(), *gc.get_threshold())")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.split()
    frozen, thresholds = int(out[0]), [int(v) for v in out[1:]]
    assert frozen > 10_000  # the app's modules, routes and schemas
    assert thresholds == [10_000, 20, 20]
