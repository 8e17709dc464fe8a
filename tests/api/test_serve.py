"""``finops serve`` pieces that run without a server (the browser test runs the real one)."""

from __future__ import annotations

from typer.testing import CliRunner

from finops.cli import commands


def test_serve_help_lists_host_and_port() -> None:
    result = CliRunner().invoke(commands(), ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output
