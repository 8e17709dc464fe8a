"""``finops allocate`` (run the engine over a window) and ``finops explain`` (a team's cost)."""

from __future__ import annotations

import json
from enum import StrEnum

import typer

from finops.cli.common import app, day_option, note, open_warehouse, out, progress, state
from finops.pipeline.allocate import run_allocation
from finops.reports.explain import explain_team, render_text
from finops.warehouse import open_snapshot
from models.errors import NotFound


class ExplainFormat(StrEnum):
    table = "table"
    json = "json"


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


@app.command("explain")
def explain_command(
    team: str = typer.Option(..., "--team", help="Team name."),
    start: str = typer.Option(..., "--start", help="First day (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--end", help="Last day, inclusive (YYYY-MM-DD)."),
    fmt: ExplainFormat = typer.Option(ExplainFormat.table, "--format", help="table or json."),
) -> None:
    """Show how a team's cost was built: compute, shared charges, idle, cloud, rules."""
    first, last = day_option(start, "--start"), day_option(end, "--end")
    con = open_snapshot(state.settings.snapshot_path)
    try:
        frame = con.sql("SELECT * FROM allocation WHERE day BETWEEN $s AND $e AND team = $t",
                        params={"s": first, "e": last, "t": team}).pl()
    finally:
        con.close()
    if not frame.height:
        raise NotFound(f"no allocated cost for team {team!r} in {first}..{last} "
                       "(run `finops allocate` for the window, or check the team name)")
    report = explain_team(frame, team)
    if fmt is ExplainFormat.json:
        out.print_json(json.dumps(report, default=str))
    else:
        out.print(render_text(report), markup=False, highlight=False)
