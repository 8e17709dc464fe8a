"""``finops allocate``: run the engine over a window, reconcile it, print the totals."""

from __future__ import annotations

import typer

from finops.cli.common import app, day_option, money, note, open_warehouse, out, progress, state
from finops.pipeline.allocate import RunSummary, run_allocation

LINES = (("billed (effective)", "billed"), ("estimated (no bill)", "estimated"),
         ("allocated to teams", "teams"), ("idle", "idle"))


@app.command("allocate")
def allocate_command(
    start: str = typer.Option(..., "--start", help="First day (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--end", help="Last day, inclusive (YYYY-MM-DD)."),
) -> None:
    """Attribute every dollar of the window to a team or to unowned spend; reconcile it."""
    first, last = day_option(start, "--start"), day_option(end, "--end")
    config = state.finops_config()
    with open_warehouse() as wh, progress() as bar:
        task = bar.add_task("allocating", total=(last - first).days + 1)

        def on_partition(part: object) -> None:
            cluster = getattr(part, "cluster", None) or "cloud"
            bar.update(task, description=f"{getattr(part, 'day', '')} {cluster}")

        summary = run_allocation(wh, config, first, last, on_partition=on_partition,
                                 on_day=lambda _d: bar.advance(task),
                                 duckdb_memory=state.settings.allocate_memory_limit)
    note(f"run {summary.run_id}: {len(summary.days)} days, {summary.partitions} partitions, "
         f"{summary.rows} rows; reconciliation 0.00 on every (day, billing account), in the "
         "billing currency and converted")
    print_totals(summary)


def print_totals(summary: RunSummary) -> None:
    """The run's totals under a header that states their currency and why it is that one."""
    t, currency = summary.totals, summary.currency
    out.print(f"Amounts in {currency} ({summary.currency_chosen_by})", highlight=False)
    lines = [(label, t.get(key, 0.0)) for label, key in LINES]
    lines += [(f"unowned {k[8:]}", t[k]) for k in sorted(t) if k.startswith("unowned:")]
    for label, value in lines:
        out.print(f"{label + ':':<30} {money(value, currency):>18}", highlight=False)
