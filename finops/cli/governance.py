"""``finops governance``: findings with the money at stake, from the published warehouse."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from finops.cli.common import app, day_option, note_plain, out, state
from finops.cli.output import Format, render
from finops.governance.findings import money
from finops.governance.report import GovernanceReport, governance_report, last_day, month_to_date
from finops.warehouse import open_snapshot
from models.errors import InputError

COLUMNS = ["kind", "subject", "team", "amount", "currency", "exemption", "detail"]
CEILING_COLUMNS = ["team", "ceiling_monthly", "budget_monthly", "quota_namespaces",
                   "unbounded_namespaces"]  # quota ceilings against budgets, per team
CEILING_HEADERS = ["team", "quota/month", "budget/month", "with quota", "unbounded"]


@app.command("governance")
def governance_command(
    start: str | None = typer.Option(None, "--start", help="First day (default: the first "
                                     "of the month of --end)."),
    end: str | None = typer.Option(None, "--end", help="Last day, inclusive (default: the "
                                   "last allocated day)."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, csv (the findings) "
                               "or json (everything)."),
) -> None:
    """Namespaces without quotas, quota ceilings against budgets, teams without budgets, label
    coverage, Backstage catalog drift, exemptions: each finding with the money at stake."""
    config = state.finops_config()
    today = datetime.now(UTC).date()
    first = day_option(start, "--start") if start else None
    last = day_option(end, "--end") if end else None
    con = open_snapshot(state.settings.snapshot_path)
    try:
        window = month_to_date(first, last, last_day(con), today)
        if window.start > window.end:
            raise InputError(f"--start {window.start} is after --end {window.end}")
        report = governance_report(con, config, window, today)
    finally:
        con.close()
    show(report, fmt)


def show(report: GovernanceReport, fmt: Format) -> None:
    if fmt is Format.json:
        out.print_json(json.dumps(report.as_dict(), default=str))
    elif fmt is Format.csv:
        render(COLUMNS, [[f.kind, f.subject, f.team, f"{f.amount:.2f}", f.currency,
                          f.exemption, f.detail] for f in report.findings], "csv")
    else:
        out.print("\n".join(text_lines(report)), markup=False, highlight=False)
        render(CEILING_HEADERS, [[r[c] for c in CEILING_COLUMNS]
                                 for r in report.quota_ceilings], "table")
    note_plain(summary_line(report))


def text_lines(report: GovernanceReport) -> list[str]:
    """Findings grouped by kind, largest first: one line each, never cut to a column."""
    lines: list[str] = []
    for kind, totals in report.summary()["by_kind"].items():
        lines.append(f"{kind}: {totals['count']}, {money(totals['amount'], report.currency)} "
                     "at stake")
        mine = sorted((f for f in report.findings if f.kind == kind), key=lambda f: -f.amount)
        for f in mine:
            who = f" [{f.team}]" if f.team else ""
            exempt = f" (exempt: {f.exemption})" if f.exemption else ""
            lines.append(f"  {f.subject}{who}: {money(f.amount, f.currency)}{exempt}: "
                         f"{f.detail}")
    return lines or ["No findings."]


def summary_line(report: GovernanceReport) -> str:
    summary = report.summary()
    kinds = "; ".join(f"{kind} {v['count']} ({money(v['amount'], report.currency)})"
                      for kind, v in summary["by_kind"].items())
    return (f"{summary['findings']} findings in {report.window.start}..{report.window.end}"
            f"{': ' + kinds if kinds else ''}. Exemptions: {summary['exemptions']}, "
            f"{summary['expired_exemptions']} expired")
