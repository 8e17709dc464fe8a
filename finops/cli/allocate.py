"""``finops allocate``: run the engine over a window, reconcile it, print the totals."""

from __future__ import annotations

import typer

from finops.cli.common import app, day_option, note, open_warehouse, out, progress, state
from finops.pipeline.allocate import run_allocation


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
    t = summary.totals
    note(f"run {summary.run_id}: {len(summary.days)} days, {summary.partitions} partitions, "
         f"{summary.rows} rows; reconciliation 0.00 on every (day, billing account)")
    out.print(f"billed (effective):   ${t.get('billed', 0):>14,.2f}", highlight=False)
    out.print(f"estimated (no bill):  ${t.get('estimated', 0):>14,.2f}", highlight=False)
    out.print(f"allocated to teams:   ${t.get('teams', 0):>14,.2f}", highlight=False)
    out.print(f"idle:                 ${t.get('idle', 0):>14,.2f}", highlight=False)
    for key in sorted(k for k in t if k.startswith("unowned:")):
        out.print(f"unowned {key[8:]:<22} ${t[key]:>14,.2f}", highlight=False)
