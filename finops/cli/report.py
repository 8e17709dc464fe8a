"""``finops report …``: read-only reports over the published warehouse (``report unowned``)."""

from __future__ import annotations

import typer

from finops.cli.common import day_option, note, report_app, sandbox
from finops.cli.output import Format, render

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


