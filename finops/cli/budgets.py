"""``finops budgets check`` and ``finops budgets report``.

``check`` evaluates budgets and anomalies and writes the outbox (``finops.alerts.check``).
Without ``--send`` it is a dry run: every pending message is printed and nothing leaves the
machine (the messages stay pending, so a later ``--send`` delivers them). With ``--send``
they are delivered; the command exits 1 and says so when this run dead-lettered a message,
when a channel's credentials were refused, or when a message failed (it is retried on the
next run).
"""

from __future__ import annotations

import typer
from rich.console import Console

from finops.alerts import check as checking
from finops.alerts import reads
from finops.alerts.budgets import BudgetStatus
from finops.alerts.compose import fx_text, plain
from finops.alerts.delivery import Report
from finops.cli.common import (
    budgets_app,
    console,
    money,
    note,
    note_plain,
    open_warehouse,
    out,
    parse_day,
    state,
)
from finops.cli.output import render
from finops.warehouse import open_snapshot
from models.errors import AlertDeliveryError


@budgets_app.command("check")
def check(
    send: bool = typer.Option(False, "--send", help="Deliver pending alerts (Slack, webhooks, "
                              "email)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Evaluate on this day (default: the last day with data)."),
    fmt: str = typer.Option("table", "--format", help="Summary format: table, csv or json."),
) -> None:
    """Evaluate every budget and anomaly monitor, write the outbox, deliver or print."""
    settings, config = state.settings, state.finops_config()
    day = parse_day(as_of, "--as-of") if as_of is not None else None
    result = checking.check(open_warehouse, config, settings, as_of=day, send=send)
    for warning in result.warnings:
        note_plain(f"Warning: {warning}")
    planned = result.planned
    note_plain(f"{len(planned.new)} new messages in the outbox ({len(planned.statuses)} "
               f"budgets as of {planned.day}; anomaly days checked: "
               f"{', '.join(map(str, planned.checked_days)) or 'none'}).")
    if planned.quiet:
        note_plain(f"Snoozed, nothing new posted: {', '.join(sorted(set(planned.quiet)))}.")
    if not send:  # messages on stdout, unless stdout carries CSV/JSON
        _print_pending(result.pending, out if fmt == "table" else console)
    _summary(planned.statuses, fmt)
    if result.report is not None:
        _report(result.report, result.counts)


def _print_pending(rows: list[dict[str, object]], where: Console) -> None:
    note(f"Dry run (no --send): {len(rows)} pending messages, none sent.\n")
    for row in rows:
        target = f"{row['channel']}" + (f" ({row['transport']})" if row["transport"] != "slack"
                                         else "")
        thread = f", in the thread of {row['conversation']}" if row["op"] == "reply" else ""
        where.print(f"--- to {target}{thread}  [{row['alert_key']}]", markup=False,
                    highlight=False)
        where.print(plain(row["payload"]) + "\n", markup=False,  # type: ignore[arg-type]
                    highlight=False)


def _summary(statuses: list[BudgetStatus], fmt: str) -> None:
    columns = ["budget", "scope", "period", "actual", "amount", "used %", "forecast",
               "interval", "crossed", "notify", "converted"]
    render(columns, [_row(s) for s in statuses], fmt)


def _row(s: BudgetStatus) -> tuple[object, ...]:
    b, f = s.budget, s.forecast
    scope = b.team or ",".join(f"{k}={v}" for k, v in b.filter.items())
    cur = b.currency
    interval = f"{money(f.low, cur)} – {money(f.high, cur)}" if f.ok else (f.reason or "")
    crossed = ", ".join(t.label for t in sorted(s.crossed, key=lambda t: t.rank))
    return (b.name, scope, s.period.label, money(s.actual, cur), money(b.amount, cur),
            f"{s.percent_used:.1f}", money(f.point, cur) if f.ok else "n/a", interval, crossed,
            b.notify, fx_text(s.fx))


def _report(report: Report, counts: dict[str, int]) -> None:
    note_plain(f"Sent {len(report.sent)} messages; updated {len(report.updated)} "
               "conversation parents.")
    if report.deferred:
        note_plain(f"Left in the outbox for the next run, no attempt counted: "
                   f"{len(report.deferred)} ({_reasons(report.deferred)}).")
    if report.failed:
        note_plain(f"Not delivered, retried on the next run: {_listed(report.failed)}")
    earlier = counts.get("dead", 0) - len(report.dead)
    if earlier > 0 and not report.dead:
        note_plain(f"The outbox holds {earlier} dead letters from earlier runs: "
                   "`finops alerts list --status dead`, `finops alerts retry --dead`.")
    problems = []
    if report.stopped:
        problems += [f"{transport} stopped: {why}" for transport, why in report.stopped.items()]
    if report.dead:
        problems.append(f"this run dead-lettered {len(report.dead)} messages: "
                        f"{_listed(report.dead)}; see `finops alerts list --status dead`, "
                        "requeue with `finops alerts retry --dead` once fixed")
    if report.failed:
        problems.append(f"{len(report.failed)} messages failed this run and stay pending")
    if problems:
        raise AlertDeliveryError("; ".join(problems))


def _listed(items: list[tuple[str, str]]) -> str:
    return "; ".join(f"{key}: {error}" for key, error in items)


def _reasons(items: list[tuple[str, str]]) -> str:
    return "; ".join(sorted({why for _, why in items}))


@budgets_app.command("report")
def report(
    team: str = typer.Option(..., "--team", help="The team whose budgets to report."),
    as_of: str | None = typer.Option(None, "--as-of", help="Evaluate on this day."),
) -> None:
    """A team's budget report (what `budget_reports` posts daily or weekly)."""
    settings, config = state.settings, state.finops_config()
    day = parse_day(as_of, "--as-of") if as_of is not None else None
    con = open_snapshot(settings.snapshot_path)
    try:
        message = reads.team_report(con, config, settings, team, day)
    finally:
        con.close()
    out.print(plain(message), markup=False, highlight=False)
