"""``finops retention apply [--dry-run]``: remove raw rows older than the retention settings
(``FINOPS_RETENTION__*``), never those of a day not yet allocated; report the rows removed and
the space freed (``finops.retention``)."""

from __future__ import annotations

import typer

from finops import retention
from finops.cli.common import note, note_plain, open_warehouse, out, retention_app, state
from finops.pipeline.incremental import config_fingerprint
from finops.warehouse import Storage


@retention_app.command("apply")
def apply_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go; remove nothing."),
) -> None:
    """Remove raw usage and bill lines past their months; report the space freed."""
    config = state.finops_config()
    with open_warehouse(publish=False) as wh:
        with wh.reader() as reader:
            plan = retention.plan(reader, state.settings.retention, config_fingerprint(config))
        print_plan(plan, dry_run)
        if dry_run or not plan.rows:
            return
        report = retention.apply(wh, plan)
        state.publish(wh)
    note_plain(describe_space(report))


def print_plan(plan: retention.Plan, dry_run: bool) -> None:
    if plan.newest is None:
        note("Nothing is allocated yet: retention keeps every row.")
        return
    note_plain(f"Months counted back from the newest allocated day, {plan.newest}.")
    if plan.held_at is not None:
        note_plain(f"Held back at {plan.held_at}: that day is not allocated (or changed since), "
                   "so its raw data stays.")
    verb = "would remove" if dry_run else "removing"
    for cut in plan.cuts:
        out.print(f"{cut.table.name:<18} kept from {cut.kept_from}  {verb} {cut.rows:>12,} rows",
                  highlight=False)


def describe_space(report: retention.Report) -> str:
    """Rows removed, the file's size before and after, and the space DuckDB freed inside it."""
    before, after = report.before, report.after
    return (f"Removed {report.plan.rows:,} rows. File {_mb(before.file_bytes)} -> "
            f"{_mb(after.file_bytes)}; free inside it {_mb(before.free_bytes)} -> "
            f"{_mb(after.free_bytes)} ({_mb(freed(before, after))} freed: DuckDB reuses free "
            "blocks for later loads and shrinks the file only when they are at its end).")


def freed(before: Storage, after: Storage) -> int:
    """Bytes the removal gave back: what the file lost plus what became free inside it."""
    return before.file_bytes - after.file_bytes + after.free_bytes - before.free_bytes


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"
