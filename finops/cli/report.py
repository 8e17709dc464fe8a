"""``finops report …``: read-only reports over the published warehouse (``report unowned``)."""

from __future__ import annotations

import typer

from finops.cli.common import day_option, money, note, report_app, sandbox
from finops.cli.output import Format, render
from models.errors import CurrencyError

UNOWNED_SQL = """
SELECT reason, provider, sub_account_id, cluster, namespace, service_name, resource_id,
       currency, round(sum(effective_cost), 2) AS effective_cost
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
    currencies = sorted({str(r[-2]) for r in result.rows})
    if len(currencies) > 1:
        raise CurrencyError(f"unowned spend in {' and '.join(currencies)} cannot be added up: "
                            "allocate those days again to convert them to one currency")
    total = sum(float(r[-1] or 0) for r in result.rows)
    note(f"{len(result.rows)} unowned items, {money(total, next(iter(currencies), None))} "
         f"in {start}..{end}")


