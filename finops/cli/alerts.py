"""``finops alerts list`` and ``finops alerts retry``: the outbox, seen and put right.

``list`` reads the published warehouse (no lock); ``retry`` puts dead letters back in line
(attempts from zero) through the writer: the next ``finops budgets check --send`` sends them.
"""

from __future__ import annotations

import typer

from finops.alerts import outbox, reads
from finops.cli.common import alerts_app, note_plain, open_warehouse, state
from finops.cli.output import render
from finops.warehouse import open_snapshot
from models.errors import InputError

COLUMNS = ["alert_key", "kind", "status", "attempts", "channel", "transport", "op",
           "created_at", "sent_at", "dead_at", "last_error"]


@alerts_app.command("list")
def list_command(
    status: str | None = typer.Option(None, "--status", help="pending, sending, sent or "
                                      "dead (default: all)."),
    team: str | None = typer.Option(None, "--team", help="Only this team's messages."),
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
) -> None:
    """The outbox's messages, newest first."""
    if status is not None and status not in outbox.STATUSES:
        raise InputError(f"--status: {status!r} is not one of {', '.join(outbox.STATUSES)}")
    con = open_snapshot(state.settings.snapshot_path)
    try:
        found = reads.list_alerts(con, team, status)
    finally:
        con.close()
    render(COLUMNS, [tuple(r[c] for c in COLUMNS) for r in found], fmt)


@alerts_app.command("retry")
def retry(
    keys: list[str] = typer.Argument(None, help="Alert keys of dead letters to requeue."),
    dead: bool = typer.Option(False, "--dead", help="Requeue every dead letter."),
) -> None:
    """Put dead letters back in the outbox (attempts from zero)."""
    if bool(keys) == dead:
        raise InputError("give alert keys to requeue, or --dead for all dead letters")
    with open_warehouse() as wh, wh.outbox() as con:
        wanted = keys or [r["alert_key"] for r in outbox.rows(con, "status = 'dead'")]
        known = {r["alert_key"]: r["status"] for r in outbox.rows(
            con, "alert_key IN (SELECT unnest(?))", [wanted])}
        _check_keys(keys or [], known)
        requeued = outbox.retry(con, wanted)
    note_plain(f"Requeued {len(requeued)} dead letters: {', '.join(requeued) or 'none'}; "
               "they go out with the next `finops budgets check --send`.")


def _check_keys(keys: list[str], known: dict[str, str]) -> None:
    missing = [k for k in keys if k not in known]
    alive = [f"{k} ({known[k]})" for k in keys if k in known and known[k] != "dead"]
    if missing or alive:
        raise InputError("; ".join(
            ([f"no such alert: {', '.join(missing)}"] if missing else [])
            + ([f"not dead letters: {', '.join(alive)}"] if alive else [])))
