"""What every CLI command shares: global options, the error handler, progress, the warehouse.

The command tree is declared here (the ``finops`` app and its groups, in the order ``--help``
lists them); each command lives in the module named after it or its group (``sql.py``,
``pricing.py``, ``ingest/billing.py`` …) and registers on these apps.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from finops.settings import Settings, get_settings
from finops.warehouse import Warehouse
from models.config import FinOpsConfig, load_config
from models.currency import format_money
from models.errors import CollectorError, InputError

if TYPE_CHECKING:  # the SQL sandbox's worker pool: imported by the commands that query
    from finops.sandbox import Sandbox

app = typer.Typer(
    name="finops",
    help="Cost attribution and FinOps analytics: every dollar to a team, or to unowned spend.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
ingest_app = typer.Typer(
    help="Load bills and cluster usage into the warehouse.", no_args_is_help=True
)
report_app = typer.Typer(help="Reports over the published warehouse.", no_args_is_help=True)
budgets_app = typer.Typer(help="Budgets and alerts.", no_args_is_help=True)
alerts_app = typer.Typer(help="The alert outbox: list, requeue dead letters.",
                         no_args_is_help=True)
pricing_app = typer.Typer(help="Pricing catalogs (fallback node prices).", no_args_is_help=True)
export_app = typer.Typer(help="Export the unified data.", no_args_is_help=True)
config_app = typer.Typer(help="The finops.yaml in use.", no_args_is_help=True)
retention_app = typer.Typer(help="What the warehouse keeps, and for how long.",
                            no_args_is_help=True)
fx_app = typer.Typer(help="Exchange rates (money in more than one currency).",
                     no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(report_app, name="report")
app.add_typer(budgets_app, name="budgets")
app.add_typer(alerts_app, name="alerts")
app.add_typer(pricing_app, name="pricing")
app.add_typer(export_app, name="export")
app.add_typer(config_app, name="config")
app.add_typer(retention_app, name="retention")
app.add_typer(fx_app, name="fx")

console = Console(stderr=True, soft_wrap=True)  # progress and notes on stderr; results on stdout
out = Console(soft_wrap=True)


@dataclass
class State:
    """Global options, resolved once in the callback and read by every command."""

    db: Path | None = None
    config: Path | None = None
    debug: bool = False
    publishing: bool = True
    command: str = "finops"
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = get_settings(db=self.db, config=self.config)
        return self._settings

    def finops_config(self) -> FinOpsConfig:
        """The finops.yaml in use (``Settings.config_source``), saying which on stderr."""
        source = self.settings.config_source()
        note_plain(source.describe())
        return load_config(source.path)

    def publish(self, warehouse: Warehouse) -> None:
        """Publish a snapshot for readers, unless ``--no-publish`` (``finops run`` runs its
        stages so, and publishes once at the end of the cycle)."""
        if self.publishing:
            warehouse.publish()


state = State()


@app.callback()
def _global_options(
    db: Path | None = typer.Option(None, "--db", help="Warehouse file (env FINOPS_DB)."),
    config: Path | None = typer.Option(
        None, "--config", help="finops.yaml path (env FINOPS_CONFIG)."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    no_publish: bool = typer.Option(
        False, "--no-publish", help="Write without publishing a snapshot for readers "
        "(`finops run` runs its stages so and publishes once)."),
) -> None:
    state.db, state.config, state.debug = db, config, debug
    state.publishing = not no_publish
    state._settings = None


@contextmanager
def open_warehouse(*, publish: bool = True) -> Iterator[Warehouse]:
    """The writer; publishes a fresh read-only snapshot when the block succeeds."""
    settings = state.settings
    with Warehouse(settings.db, memory_limit=settings.memory_limit,
                   snapshot=settings.snapshot_path, lock_timeout_s=settings.lock_timeout_s,
                   command=state.command, notify=note_plain) as warehouse:
        yield warehouse
        if publish:
            state.publish(warehouse)


def progress() -> Progress:
    """A rich progress bar on a terminal; plain (no animation) when not a terminal."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        disable=not sys.stderr.isatty(),
    )


def money(amount: float | None, currency: str | None, *, signed: bool = False) -> str:
    """``amount`` in ``currency`` as the configured locale writes it (``FINOPS_LOCALE``)."""
    return format_money(amount, currency, state.settings.locale, signed=signed)


def note(message: str) -> None:
    console.print(message, highlight=False)


def note_plain(message: str) -> None:
    """A note that is printed as is (paths and commands may hold ``[``, rich's markup)."""
    console.print(message, markup=False, highlight=False)


def parse_day(text: str, option: str) -> date:
    """A YYYY-MM-DD value read from a file or option; a bad one is an ``Error: …``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def day_option(text: str, option: str | None = None) -> date:
    """A YYYY-MM-DD command-line option; a bad one is a usage error naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)",
                                 param_hint=option) from None


def sandbox() -> Sandbox:
    """The API's sandbox with one worker: the same process boundary and limits as the API."""
    from finops.sandbox import Sandbox

    settings = state.settings
    return Sandbox(settings.snapshot_path, settings.sql.model_copy(update={"workers": 1}))


def boto_client(service: str, endpoint_url: str | None, profile: str | None,
                region: str | None = None) -> Any:
    """A boto3 client from settings.aws, overridden by the command's flags."""
    import boto3
    import botocore.exceptions

    aws = state.settings.aws
    try:
        session = boto3.Session(profile_name=profile or aws.profile,
                                region_name=region or aws.region)
        return session.client(service, endpoint_url=endpoint_url or aws.endpoint_url)
    except botocore.exceptions.BotoCoreError as exc:
        raise CollectorError(service, f"cannot create the boto3 client: {exc}") from None
