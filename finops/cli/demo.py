"""``finops demo``: the whole pipeline on the bundled demo organisation, then serve it.

Each step is the same CLI command a user would type (printed as it runs), so the demo is
also the tutorial: ingest the three bills and the recorded cluster usage, allocate the month,
check budgets with Slack in dry-run, show the reconciliation, and serve the API/dashboards.
The demo's own finops.yaml (with the published demo tokens) is used here and nowhere else.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from finops.cli.common import app, note, note_plain, state
from finops.demo import DEMO_CATALOG, DEMO_CONFIG, DEMO_DIR
from finops.warehouse_lock import WriterLock
from models.config import load_config
from models.errors import FinOpsError

DEMO_START, DEMO_END = "2026-10-01", "2026-10-31"


def _demo_steps(demo: Path) -> list[list[str]]:
    return [
        ["ingest", "aws-cur", str(demo / "aws")],
        ["ingest", "gcp-billing", *sorted(str(p) for p in (demo / "gcp").glob("*.jsonl*"))],
        ["ingest", "azure", *sorted(str(p) for p in (demo / "azure").glob("*.csv"))],
        ["ingest", "usage", str(demo / "usage")],
        ["ingest", "backstage", str(DEMO_CATALOG)],
        ["allocate", "--start", DEMO_START, "--end", DEMO_END],
        ["budgets", "check", "--as-of", DEMO_END],
        ["sql", "select round(sum(difference), 2) as total_difference, "
                "count(*) as account_days from reconciliation"],
    ]


def _fresh_warehouse() -> None:
    """The demo rebuilds from scratch so it is the same every time."""
    settings = state.settings
    with WriterLock(settings.db, timeout_s=settings.lock_timeout_s, command=state.command,
                    notify=note_plain):  # not while another writer uses it
        for path in (settings.db, settings.db.with_name(settings.db.name + ".wal"),
                     settings.snapshot_path):
            path.unlink(missing_ok=True)


def _run(args: list[str]) -> None:
    from finops.cli import main

    shown = " ".join(a if " " not in a else repr(a) for a in args)
    note(f"\n[bold cyan]$ finops {shown}[/]")
    try:
        main(_global_args() + args)
    except SystemExit as exc:
        if exc.code:
            raise FinOpsError(f"demo step failed: finops {shown}") from None


def _global_args() -> list[str]:
    args = ["--db", str(state.settings.db), "--config", str(DEMO_CONFIG)]
    return args + (["--debug"] if state.debug else [])


def demo_tokens(demo: Path) -> dict[str, str]:
    """The documented demo tokens (their hashes are in the demo finops.yaml)."""
    path = demo / "tokens.json"
    return json.loads(path.read_text()) if path.exists() else {}


@app.command("demo")
def demo(
    no_serve: bool = typer.Option(False, "--no-serve", help="Build everything, don't serve."),
    port: int = typer.Option(8000, "--port", help="API port."),
    host: str = typer.Option("127.0.0.1", "--host", help="API address."),
) -> None:
    """Build ./data/finops.duckdb from the bundled demo data, allocate, check budgets, serve."""
    if not (DEMO_DIR / "aws").exists():
        raise FinOpsError(f"demo data not found in {DEMO_DIR} (a broken installation?)")
    if state.settings.config is not None:
        note_plain(f"The demo uses its own config ({DEMO_CONFIG}), not {state.settings.config}.")
    settings = state.settings.model_copy(update={"config": DEMO_CONFIG})
    started = time.monotonic()
    _fresh_warehouse()
    for step in _demo_steps(DEMO_DIR):
        _run(step)
    note_plain(f"\nDemo warehouse built in {time.monotonic() - started:.1f}s: {settings.db}")
    _print_access(host, port, DEMO_DIR)
    if not no_serve:
        from finops.cli.serve import serve

        serve(settings, load_config(DEMO_CONFIG), host=host, port=port)


def _print_access(host: str, port: int, demo_dir: Path) -> None:
    base = f"http://{host}:{port}"
    note(f"\nAPI:        {base}/api/...   (OpenAPI: {base}/openapi.json, health: {base}/healthz)")
    note(f"Dashboards: {base}/signin   (sign in with a token below, e.g. demo-finance)")
    note('SQL:        finops sql "select * from unowned_spend limit 10"')
    note(f"            or POST {base}/api/sql with the platform token")
    for role, token in demo_tokens(demo_dir).items():
        note(f"Token {role:<22} {token}")
