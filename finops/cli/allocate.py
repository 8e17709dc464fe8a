"""``finops allocate``: run the engine over a window, reconcile it, print the totals."""

from __future__ import annotations

from collections.abc import Sequence

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
from finops.pipeline.allocate import RunSummary, run_allocation
from finops.pipeline.remote import PartitionEvent
from finops.pipeline.runner import PartitionKey, Runner
from finops.pipeline.runners import runner_named
from finops.pipeline.staging import Staging

LINES = (("billed (effective)", "billed"), ("estimated (no bill)", "estimated"),
         ("allocated to teams", "teams"), ("idle", "idle"))


@app.command("allocate")
def allocate_command(
    start: str = typer.Option(..., "--start", help="First day (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--end", help="Last day, inclusive (YYYY-MM-DD)."),
    runner: str | None = typer.Option(
        None, "--runner", help="local | processes | ray (env FINOPS_RUNNER; default local)."),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="auto | ray://host:10001 | host:port (env "
        "FINOPS_RAY_ADDRESS); unset: a local Ray for the run."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Worker processes (processes, local Ray; env "
        "FINOPS_WORKERS)."),
) -> None:
    """Attribute every dollar of the window to a team or to unowned spend; reconcile it."""
    first, last = day_option(start, "--start"), day_option(end, "--end")
    config = state.finops_config()
    with open_warehouse() as wh, progress() as bar:
        task = bar.add_task("allocating", total=None)

        def on_keys(keys: Sequence[PartitionKey]) -> None:
            bar.update(task, total=len(keys))

        def on_partition(key: PartitionKey) -> None:
            bar.update(task, description=f"{key.day} {key.cluster}", advance=1)

        chosen = _runner(runner, ray_address, workers)
        summary = run_allocation(wh, config, first, last, runner=chosen, on_keys=on_keys,
                                 on_partition=on_partition,
                                 duckdb_memory=state.settings.allocate_memory_limit)
    note(f"run {summary.run_id}: {len(summary.days)} days, {summary.partitions} partitions, "
         f"{summary.rows} rows; reconciliation 0.00 on every (day, billing account), in the "
         "billing currency and converted")
    print_totals(summary)


def _runner(name: str | None, address: str | None, workers: int | None) -> Runner:
    settings = state.settings
    staging = Staging(settings.staging_uri, settings.aws.endpoint_url, settings.aws.region)
    chosen = name or settings.runner
    return runner_named(chosen, staging=staging, workers=workers or settings.workers,
                        address=address or settings.ray_address,
                        attempts=settings.partition_attempts, on_event=_said)


def _said(event: PartitionEvent) -> None:
    """Retries and failures are said as they happen (the bar shows what is done)."""
    if event.status != "done":
        note_plain(f"partition {event.key.cluster} on {event.key.day}: attempt {event.attempt} "
             f"{'failed, retrying' if event.status == 'retry' else 'failed'}: {event.error}")


def print_totals(summary: RunSummary) -> None:
    """The run's totals under a header that states their currency and why it is that one."""
    t, currency = summary.totals, summary.currency
    out.print(f"Amounts in {currency} ({summary.currency_chosen_by})", highlight=False)
    lines = [(label, t.get(key, 0.0)) for label, key in LINES]
    lines += [(f"unowned {k[8:]}", t[k]) for k in sorted(t) if k.startswith("unowned:")]
    for label, value in lines:
        out.print(f"{label + ':':<30} {money(value, currency):>18}", highlight=False)
