"""Run the ``finops`` CLI in-process the way the console script does."""

from __future__ import annotations

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
