"""``finops config check``: validate ``finops.yaml`` and print what it would make finops do."""

from __future__ import annotations

from pathlib import Path

import typer

from finops import config_report
from finops.cli.common import config_app, out, state
from finops.settings import Settings
from finops.warehouse import open_snapshot
from models.config import FinOpsConfig, load_config


@config_app.command("check")
def check_command(
    config: Path | None = typer.Option(
        None, "--config", help="finops.yaml to check (default: the global --config, "
        "FINOPS_CONFIG, else ./finops.yaml)."),
) -> None:
    """Validate finops.yaml (errors name the key path) and show teams, rules, budgets, tokens."""
    if config is not None:
        state.config, state._settings = config, None
    settings = state.settings
    source = settings.config_source()
    say(source.describe())
    parsed = load_config(source.path)  # a bad file: `Error: <path>: <key path>: …`, exit 1
    say("Valid." if source.path else "Nothing to validate: these are the defaults.")
    say("")
    for line in config_report.describe(parsed, settings):
        say(line)
    from_data = _data_warnings(parsed, settings)
    checked = from_data is not None
    _print_warnings(config_report.warnings(parsed, data_checked=checked,
                                                   settings=settings) + (from_data or []))


def _data_warnings(config: FinOpsConfig, settings: Settings) -> list[str] | None:
    """Warnings from the published warehouse; None when there is none to check against."""
    snapshot = settings.snapshot_path
    if not snapshot.exists():
        say(f"\nWarehouse: none published at {snapshot} (data checks skipped)")
        return None
    say(f"\nWarehouse: {snapshot} (budget teams and filters checked against its data)")
    con = open_snapshot(snapshot)
    try:
        return config_report.data_warnings(config, con)
    finally:
        con.close()


def _print_warnings(found: list[str]) -> None:
    say(f"\nWarnings ({len(found)}):" if found else "\nNo warnings.")
    for warning in found:
        say(f"  - {warning}")


def say(line: str) -> None:
    out.print(line, markup=False, highlight=False)
