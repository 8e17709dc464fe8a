"""The README keeps its promises: the settings table is current, the commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_settings_table_is_current() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from settings_table import table

    assert table() in README, "run scripts/settings_table.py and paste the table into README.md"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci and "scripts/test.sh" in README


COMMAND = re.compile(r"^\| `finops ([a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)?)", re.M)


@pytest.mark.parametrize("command", sorted(set(COMMAND.findall(README))))
def test_documented_commands_exist(command: str) -> None:
    from typer.main import get_command

    from finops.cli import commands

    group = get_command(commands())
    words = command.split()
    for word in words:
        assert hasattr(group, "commands"), command
        if word not in group.commands:  # type: ignore[attr-defined]
            break
        group = group.commands[word]  # type: ignore[attr-defined]
    else:
        return
    pytest.fail(f"`finops {command}` is in the README but not in the CLI")
