"""``finops report …``: read-only reports over the published warehouse (``report unowned``,
``report savings``; ``report showback`` lives in ``finops.cli.showback``)."""

from __future__ import annotations

import typer

from finops.cli.common import day_option, money, note, report_app, sandbox, state
from finops.cli.output import Format, render
from finops.reports import savings
from finops.warehouse import open_snapshot
from models.errors import CurrencyError, InputError

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




@report_app.command("savings")
def report_savings(
    start: str = typer.Option(..., "--start", help="First day (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--end", help="Last day, inclusive (YYYY-MM-DD)."),
    team: str | None = typer.Option(None, "--team", help="Only this team's workloads."),
    headroom: float = typer.Option(savings.HEADROOM, "--headroom", min=0.0, max=10.0,
                                   help="Suggested request = p95 usage x (1 + headroom)."),
    fmt: Format = typer.Option(Format.table, "--format", help="Output format."),
) -> None:
    """Right-sizing: per workload, requests vs p95 usage and the money a month a smaller
    request would save, largest first."""
    first, last = day_option(start, "--start"), day_option(end, "--end")
    if first > last:
        raise InputError(f"--start {first} is after --end {last}")
    con = open_snapshot(state.settings.snapshot_path)
    try:
        frame = savings.rightsizing(lambda sql, params: con.sql(sql, params=params).pl(),
                                    first, last, team=team, headroom=headroom)
    finally:
        con.close()
    shown = frame.select(savings.BRIEF) if fmt is Format.table else frame
    render(shown.columns, shown.rows(), fmt.value)
    total = savings.summary(frame)
    note(f"{total['workload_count']} workloads could request less: "
         f"{money(total['monthly_saving'], total['currency'])} a month "
         f"(requests vs p95 usage in {first}..{last}, headroom {headroom:.0%})")
