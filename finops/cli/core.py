"""Read-only commands over the published warehouse: ``sql`` and ``report unowned``."""

from __future__ import annotations

from enum import StrEnum

import typer

from finops.cli.common import app, day_option, note, report_app, state
from finops.cli.output import render
from finops.sandbox import Sandbox


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def sandbox() -> Sandbox:
    """The API's sandbox with one worker: the same process boundary and limits as the API."""
    settings = state.settings
    return Sandbox(settings.snapshot_path, settings.sql.model_copy(update={"workers": 1}))


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


UNOWNED_SQL = """
SELECT reason, provider, sub_account_id, cluster, namespace, service_name, resource_id,
       round(sum(effective_cost), 2) AS effective_cost
FROM unowned_spend
WHERE day BETWEEN $start AND $end
GROUP BY ALL
ORDER BY effective_cost DESC
"""


@report_app.command("unowned")
def report_unowned(
    start: str = typer.Option(..., "--start", help="First day (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--end", help="Last day, inclusive (YYYY-MM-DD)."),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format."),
) -> None:
    """Spend no team owns, by reason and place, largest first."""
    with sandbox() as box:
        result = box.run(UNOWNED_SQL, {"start": day_option(start), "end": day_option(end)})
    render(result.columns, result.rows, fmt.value)
    total = sum(float(r[-1] or 0) for r in result.rows)
    note(f"{len(result.rows)} unowned items, ${total:,.2f} in {start}..{end}")


