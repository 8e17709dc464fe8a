"""``finops fx …``: exchange rates. ``fx load FILE`` loads a CSV of monthly or daily rates
into ``fx_rate``; ``fx rates`` lists what the warehouse holds and finops.yaml states."""

from __future__ import annotations

from pathlib import Path

import typer

from finops.cli.common import fx_app, note, open_warehouse, out, state
from finops.cli.output import Format, render
from finops.fx import config_rates, loaded_rates
from finops.pipeline.store import ingest
from ingestion.fx import rates


@fx_app.command("load")
def fx_load(
    path: Path = typer.Argument(..., help="CSV with columns date (YYYY-MM or YYYY-MM-DD), "
                                "from, to, rate (1 from = rate to)."),
) -> None:
    """Load exchange rates (they convert bills without a rate of their own)."""
    with open_warehouse() as warehouse:
        [run] = ingest(warehouse, rates.SOURCE, [path], lambda _work: [rates.rates_load(path)])
    note(f"fx load: {run.rows} rates from {path} ({run.status}, run {run.run_id})")


@fx_app.command("rates")
def fx_rates(fmt: Format = typer.Option(Format.table, "--format", help="Output format.")) -> None:
    """The rates finops.yaml states and the warehouse holds (1 from = rate to)."""
    config = config_rates(state.finops_config())
    with open_warehouse(publish=False) as warehouse:
        loaded = loaded_rates(warehouse)
    both = config.vstack(loaded).sort("from_currency", "to_currency", "valid_from")
    render(both.columns, both.rows(), fmt.value)
    if not both.height:
        out.print("no rates: bills in the reporting currency, or exports that carry their "
                  "own rates, need none", highlight=False)
