"""Run the ``finops`` CLI: in-process the way the console script does, or as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from finops.cli import main


def exit_code(args: list[str]) -> int:
    """The exit code `finops ARGS` ends with (0 when it returns normally)."""
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `finops ARGS`."""
    code = exit_code(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def finops_command(args: list[str]) -> list[str]:
    """`finops ARGS` as a process argv (this interpreter, so the same installation)."""
    return [sys.executable, "-m", "finops", *args]


def run_finops(args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
               timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """`finops ARGS` in its own process, as a user runs it: exit code, stdout, stderr.
    ``env`` is added to this process's environment."""
    return subprocess.run(finops_command(args), env={**os.environ, **(env or {})}, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout_s, check=False)
