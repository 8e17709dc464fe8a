"""``finops budgets check``: evaluate budgets, queue alerts in the outbox, deliver or print.

Without ``--send`` it is a dry run: every pending message is printed and nothing leaves the
machine (the rows stay pending, so a later ``--send`` delivers them). With ``--send`` the
pending messages (new ones and earlier failures) are posted to Slack.
"""

from __future__ import annotations

from datetime import date

import typer
from duckdb import DuckDBPyConnection
from rich.console import Console

from finops import alerts
from finops.budgets import BudgetStatus, fx_text
from finops.cli.common import (
    budgets_app,
    console,
    money,
    note,
    open_warehouse,
    out,
    parse_day,
    progress,
    state,
)
from finops.cli.output import render
from models.config import FinOpsConfig
from models.errors import AlertDeliveryError


@budgets_app.command("check")
def check(
    send: bool = typer.Option(False, "--send", help="Post pending alerts to Slack."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Evaluate on this day (default: the last day with data)."),
    fmt: str = typer.Option("table", "--format", help="Summary format: table, csv or json."),
) -> None:
    """Evaluate every budget, queue crossed thresholds, anomalies and the unowned digest."""
    config = state.finops_config()
    day = parse_day(as_of, "--as-of") if as_of is not None else None
    client = alerts.slack_client(state.settings) if send else None  # fail before any work
    with open_warehouse() as wh, wh.outbox() as outbox:
        statuses, delivery = evaluate(outbox, config, client, day)
        if client is None:  # messages on stdout, unless stdout carries CSV/JSON
            _print_pending(outbox, out if fmt == "table" else console)
    _summary(statuses, fmt)
    if delivery:
        report(delivery)


def evaluate(outbox: DuckDBPyConnection, config: FinOpsConfig, client: alerts.WebClient | None,
             day: date | None) -> tuple[list[BudgetStatus], alerts.Delivery | None]:
    """Evaluate every budget on ``day`` (None: the last day with data), queue what is due,
    and deliver what is pending when there is a Slack ``client``."""
    settings = state.settings
    statuses, queued = alerts.collect(outbox, config, settings, day)
    new = [a.key for a in queued if alerts.enqueue(outbox, a)]
    note(f"{len(queued)} alerts due, {len(new)} new in the outbox.")
    delivery = _deliver(outbox, client, settings.slack.max_attempts) if client else None
    return statuses, delivery


def _deliver(outbox: DuckDBPyConnection, client: alerts.WebClient,
             max_attempts: int) -> alerts.Delivery:
    todo = alerts.pending(outbox)
    with progress() as bar:
        task = bar.add_task("Posting to Slack", total=len(todo))
        return alerts.deliver(outbox, client, max_attempts,
                              on_progress=lambda _key: bar.advance(task))


def _print_pending(outbox: DuckDBPyConnection, where: Console) -> None:
    rows = alerts.pending(outbox)
    note(f"Dry run (no --send): {len(rows)} pending messages, none sent.\n")
    for row in rows:
        where.print(f"--- to {row['channel']}  [{row['alert_key']}]", markup=False,
                    highlight=False)
        where.print(alerts.plain(row["payload"]) + "\n", markup=False, highlight=False)


def _summary(statuses: list[BudgetStatus], fmt: str) -> None:
    columns = ["budget", "scope", "period", "actual", "amount", "used %", "forecast",
               "interval", "crossed", "converted"]
    render(columns, [_row(s) for s in statuses], fmt)


def _row(s: BudgetStatus) -> tuple[object, ...]:
    b, f = s.budget, s.forecast
    scope = b.team or ",".join(f"{k}={v}" for k, v in b.filter.items())
    cur = b.currency
    interval = f"{money(f.low, cur)} – {money(f.high, cur)}" if f.ok else (f.reason or "")
    crossed = ", ".join(
        f"{kind} " + "/".join(f"{t.percent:g}" for t in s.crossed if t.kind == kind) + "%"
        for kind in ("actual", "forecast") if any(t.kind == kind for t in s.crossed))
    return (b.name, scope, s.period.label, money(s.actual, cur), money(b.amount, cur),
            f"{s.percent_used:.1f}", money(f.point, cur) if f.ok else "n/a", interval, crossed,
            fx_text(s.fx))


def report(delivery: alerts.Delivery) -> None:
    note(f"Sent {len(delivery.sent)} alerts to Slack.")
    if delivery.failed:
        problems = "; ".join(f"{key}: {error}" for key, error in delivery.failed)
        dead = f" ({len(delivery.dead)} dead-lettered)" if delivery.dead else ""
        raise AlertDeliveryError(
            f"{len(delivery.failed)} alerts not delivered, kept in the outbox for the next "
            f"run{dead}: {problems}")
