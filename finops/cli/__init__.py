"""The ``finops`` command line. ``main`` is the console script.

The command tree is declared in ``common.py``; each command lives in the module named after
it or its group (``allocate``, ``run``, ``explain``, ``sql``, ``report``, ``budgets``,
``alerts``, ``pricing``, ``fx``, ``export``, ``config``, ``retention``, ``serve``, ``demo``,
``ingest/billing``, ``ingest/k8s``). Commands build clients from settings and flags and call
the pipeline, collectors, the sandbox or the API; they never write to the warehouse's
connection themselves. The top floor: nothing in ``finops`` imports it (``finops.synthetic``'s
own command line borrows its progress bar).
"""

from __future__ import annotations

import sys

import click

from finops.cli.common import app, console, state
from models.errors import FinOpsError

# Imported for the commands they register, in the order ``finops --help`` lists them.
# isort: off
from finops.cli import allocate, run, explain, sql, demo, serve  # noqa: F401
from finops.cli.ingest import billing, k8s, ownership  # noqa: F401
from finops.cli import report, showback, budgets, alerts, governance, policy  # noqa: F401
from finops.cli import pricing, fx, export, config, retention  # noqa: F401
# isort: on


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: ``Error: …`` and exit 1 on failure, traceback only with ``--debug``."""
    args = sys.argv[1:] if argv is None else argv
    state.command = " ".join(["finops", *args])  # who holds the writer lock, for a waiter
    try:
        app(args=args, standalone_mode=False)
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
