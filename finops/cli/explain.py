"""``finops explain``: how a team's cost was built, from the published warehouse."""

from __future__ import annotations

import json
from enum import StrEnum

import typer

from finops.cli.common import app, day_option, out, state
from finops.reports.explain import explain_team, render_text
from finops.warehouse import open_snapshot
from models.errors import NotFound


class ExplainFormat(StrEnum):
    table = "table"
    json = "json"


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
        out.print(render_text(report, state.settings.locale), markup=False, highlight=False)
