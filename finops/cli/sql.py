"""``finops sql``: one read-only SELECT on the published warehouse, in the API's sandbox."""

from __future__ import annotations

import typer

from finops.cli.common import app, note, sandbox
from finops.cli.output import Format, render


@app.command("sql")
def sql_command(
    query: str = typer.Argument(..., help="One SELECT over the published warehouse."),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format."),
) -> None:
    """Run one read-only SELECT on the published warehouse (the platform team's interface)."""
    with sandbox() as box:
        result = box.run(query)
    render(result.columns, result.rows, fmt.value)
    if result.truncated:
        note(f"(truncated at {len(result.rows)} rows; FINOPS_SQL__MAX_ROWS raises the cap)")
