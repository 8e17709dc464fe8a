"""``finops serve`` pieces that run without a server (the browser test runs the real one)."""

from __future__ import annotations

import logging

from typer.testing import CliRunner

from finops.cli.common import app
from finops.cli.serve import RedactTokens


def test_access_log_lines_never_carry_tokens() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET",
                                "/dashboards/finance?start=2026-10-01&token=s3cret&x=1", "1.1",
                                200), None)
    assert RedactTokens().filter(record)
    line = record.getMessage()
    assert "s3cret" not in line and "token=***&x=1" in line and "start=2026-10-01" in line


def test_serve_help_lists_host_and_port() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--port" in result.output
