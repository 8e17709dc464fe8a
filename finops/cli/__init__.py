"""The ``finops`` command line. ``main`` is the console script.

The command tree is declared in ``common.py``; each command lives in the module named after
it or its group (``allocate``, ``run``, ``explain``, ``sql``, ``report``, ``budgets``,
``alerts``, ``pricing``, ``fx``, ``export``, ``config``, ``retention``, ``serve``, ``demo``,
``ingest/billing``, ``ingest/k8s``); ``commands`` imports only the modules of the command a run
names (all of them for ``--help``). Commands build clients from settings and flags and call
the pipeline, collectors, the sandbox or the API; they never write to the warehouse's
connection themselves. The top floor: nothing in ``finops`` imports it (``finops.synthetic``'s
own command line borrows its progress bar).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

import click
import typer

from finops.cli.common import app, console, state
from finops.runtime import command_of, exit_now, started
from models.errors import FinOpsError

# The modules that register each command or group, in the order ``finops --help`` lists them.
# A run imports only the modules of the command it runs (``commands``): importing them all
# would import every command's dependencies (FastAPI for ``serve``, Slack for ``run`` …), which
# cost ``finops allocate`` seconds of start-up. Each module imports its heavy dependencies
# inside its commands where other modules would otherwise pay for them.
MODULES: dict[str, tuple[str, ...]] = {
    "allocate": ("allocate",), "run": ("run",), "publish": ("publish",),
    "explain": ("explain",), "sql": ("sql",), "demo": ("demo",), "serve": ("serve",),
    "ingest": ("ingest.billing", "ingest.k8s", "ingest.ownership"),
    "report": ("report", "showback"), "budgets": ("budgets",), "alerts": ("alerts",),
    "governance": ("governance",), "policy": ("policy",), "pricing": ("pricing",),
    "fx": ("fx",), "export": ("export",), "config": ("config",), "retention": ("retention",),
}


def commands(args: Sequence[str] | None = None) -> typer.Typer:
    """The ``finops`` app with the command ``args`` name registered, or every command when
    they name none (``finops --help``, a typo: the listing and click's suggestions need all)."""
    chosen = MODULES.get(command_of(args or []) or "")
    for module in chosen or [m for group in MODULES.values() for m in group]:
        importlib.import_module(f"finops.cli.{module}")
    order = list(MODULES)
    app.registered_commands.sort(
        key=lambda c: order.index(c.name) if c.name in order else len(order))
    return app


def main(argv: list[str] | None = None) -> None:
    """Run the CLI on ``argv`` (raises ``SystemExit`` with a non-zero exit code); without it,
    this process's own command line, and end the process (``finops.runtime``)."""
    if argv is not None:
        invoke(argv)
        return
    try:
        invoke(sys.argv[1:], imported=started)
    except SystemExit as exc:
        if not isinstance(exc.code, int | None):
            raise  # a message: the interpreter prints it
        exit_now(exc.code or 0)
    exit_now(0)


def invoke(args: list[str], imported: Callable[[], None] | None = None) -> None:
    """Run the CLI: ``Error: …`` and exit 1 on failure, traceback only with ``--debug``.
    ``imported`` is called once the command's modules are imported, before it runs."""
    state.command = " ".join(["finops", *args])  # who holds the writer lock, for a waiter
    try:
        chosen = commands(args)
        if imported is not None:
            imported()
        chosen(args=args, standalone_mode=False)
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        console.print("Aborted.")
        raise SystemExit(130) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except Exception as exc:  # noqa: BLE001 — the one place every error is rendered
        if state.debug or "--debug" in args:
            raise
        message = str(exc) if isinstance(exc, FinOpsError) else f"{type(exc).__name__}: {exc}"
        console.print(f"Error: {message}", markup=False, highlight=False)
        raise SystemExit(1) from None
