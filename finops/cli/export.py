"""``finops export focus``: the unified multi-cloud cost lines as a FOCUS 1.2 file."""

from __future__ import annotations

from pathlib import Path

import typer

from finops.cli.common import export_app, note, parse_day, state
from finops.exports import export_focus
from finops.warehouse import open_snapshot


@export_app.command("focus")
def export_focus_command(
    path: Path = typer.Argument(..., help="Output file: .csv or .parquet."),
    start: str = typer.Option(..., "--start", help="First day (YYYY-MM-DD), by charge period."),
    end: str = typer.Option(..., "--end", help="Last day, inclusive (YYYY-MM-DD)."),
) -> None:
    """Write the unified multi-cloud cost lines as a FOCUS 1.2 file."""
    con = open_snapshot(state.settings.snapshot_path)
    try:
        rows = export_focus(con, parse_day(start, "--start"), parse_day(end, "--end"), path)
    finally:
        con.close()
    note(f"wrote {rows} FOCUS 1.2 rows to {path}")
