"""``finops allocate``: run the engine over the changed days (or a window), reconcile, print
the totals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import typer

from finops.cli.common import (
    app,
    day_option,
    money,
    note,
    note_plain,
    open_warehouse,
    out,
    progress,
    state,
)
from finops.pipeline.allocate import RunSummary, allocate_days
from finops.pipeline.incremental import owed, spans
from finops.pipeline.runner import LocalRunner, PartitionKey, Runner
from finops.warehouse import Warehouse
from models.config import FinOpsConfig
from models.errors import InputError

if TYPE_CHECKING:  # the runners with workers elsewhere: imported when one is chosen
    from finops.pipeline.remote import PartitionEvent

LINES = (("billed (effective)", "billed"), ("estimated (no bill)", "estimated"),
         ("allocated to teams", "teams"), ("idle", "idle"))


@app.command("allocate")
def allocate_command(
    start: str | None = typer.Option(None, "--start", help="First day (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, "--end", help="Last day, inclusive (YYYY-MM-DD)."),
    changed: bool = typer.Option(
        False, "--changed", help="Only the days changed since their last allocation (the "
        "default without --start/--end)."),
    runner: str | None = typer.Option(
        None, "--runner", help="local | processes | ray (env FINOPS_RUNNER; default local)."),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="auto | ray://host:10001 | host:port (env "
        "FINOPS_RAY_ADDRESS); unset: a local Ray for the run."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Worker processes (processes, local Ray; env "
        "FINOPS_WORKERS)."),
) -> None:
    """Attribute every cent of the changed days (or --start..--end) and reconcile it."""
    window = _window(start, end, changed)
    config = state.finops_config()
    chosen = _runner(runner, ray_address, workers)
    with open_warehouse(publish=False) as wh:
        summary = allocate(wh, config, window, chosen)
        if summary is not None:
            state.publish(wh)
    if summary is not None:
        print_totals(summary)


def allocate(wh: Warehouse, config: FinOpsConfig, window: tuple[date, date] | None,
             runner: Runner | None = None) -> RunSummary | None:
    """Allocate ``window`` (both ends included), or the days owed when None, on ``runner``
    (local by default); says which days on stderr. None when nothing was owed."""
    if window is None:
        with wh.reader() as reader:
            found = owed(reader, config)
        described = found.describe()
        note_plain(described[:1].upper() + described[1:] + ".")
        days = found.days
    else:
        first, last = window
        days = [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]
    if not days:
        return None
    return _run(wh, config, days, runner)


def _window(start: str | None, end: str | None, changed: bool) -> tuple[date, date] | None:
    if start is None and end is None:
        return None
    if changed:
        raise InputError("--changed allocates the days that changed: give it without "
                         "--start/--end, or give --start and --end without it")
    if start is None or end is None:
        raise InputError("--start and --end go together (without both: the changed days)")
    first, last = day_option(start, "--start"), day_option(end, "--end")
    if last < first:
        raise InputError(f"--end {last} is before --start {first}")
    return first, last


def _run(wh: Warehouse, config: FinOpsConfig, days: list[date],
         runner: Runner | None) -> RunSummary:
    with progress() as bar:
        task = bar.add_task("allocating", total=None)

        def on_keys(keys: Sequence[PartitionKey]) -> None:
            bar.update(task, total=len(keys))

        def on_partition(key: PartitionKey) -> None:
            bar.update(task, description=f"{key.day} {key.cluster}", advance=1)

        return allocate_days(wh, config, days, runner=runner, on_keys=on_keys,
                             on_partition=on_partition,
                             duckdb_memory=state.settings.allocate_memory_limit)


def _runner(name: str | None, address: str | None, workers: int | None) -> Runner:
    settings = state.settings
    chosen, address = name or settings.runner, address or settings.ray_address
    if chosen == "local" and address is None:
        # Partitions on this process's threads: neither staging (pyarrow's file systems)
        # nor process pools to import (a daily run's start-up).
        return LocalRunner()
    from finops.pipeline.runners import runner_named
    from finops.pipeline.staging import Staging

    staging = Staging(settings.staging_uri, settings.aws.endpoint_url, settings.aws.region)
    return runner_named(chosen, staging=staging, workers=workers or settings.workers,
                        address=address, attempts=settings.partition_attempts, on_event=_said)


def _said(event: PartitionEvent) -> None:
    """Retries and failures are said as they happen (the bar shows what is done)."""
    if event.status != "done":
        note_plain(f"partition {event.key.cluster} on {event.key.day}: attempt {event.attempt} "
                   f"{'failed, retrying' if event.status == 'retry' else 'failed'}: "
                   f"{event.error}")


def print_totals(summary: RunSummary) -> None:
    """The run's totals under a header that states their currency and why it is that one."""
    note(f"run {summary.run_id}: {len(summary.days)} days ({spans(summary.days)}), "
         f"{summary.partitions} partitions, {summary.rows} rows; reconciliation 0.00 on "
         "every (day, billing account), in the billing currency and converted")
    t, currency = summary.totals, summary.currency
    out.print(f"Amounts in {currency} ({summary.currency_chosen_by})", highlight=False)
    lines = [(label, t.get(key, 0.0)) for label, key in LINES]
    lines += [(f"unowned {k[8:]}", t[k]) for k in sorted(t) if k.startswith("unowned:")]
    for label, value in lines:
        out.print(f"{label + ':':<30} {money(value, currency):>18}", highlight=False)
