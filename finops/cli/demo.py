"""``finops demo``: the whole pipeline on the bundled demo organisation, then serve it.

Each step is the same CLI command a user would type (printed as it runs), so the demo is
also the tutorial: ingest the three bills and the recorded cluster usage, allocate the month,
check budgets with Slack in dry-run, show the reconciliation, and serve the API/dashboards.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from finops.cli.common import app, note, state
from models.errors import FinOpsError

DEMO_START, DEMO_END = "2026-10-01", "2026-10-31"


def _demo_steps(demo: Path) -> list[list[str]]:
    return [
        ["ingest", "aws-cur", str(demo / "aws")],
        ["ingest", "gcp-billing", *sorted(str(p) for p in (demo / "gcp").glob("*.jsonl*"))],
        ["ingest", "azure", *sorted(str(p) for p in (demo / "azure").glob("*.csv"))],
        ["ingest", "usage", str(demo / "usage")],
        ["allocate", "--start", DEMO_START, "--end", DEMO_END],
        ["budgets", "check", "--as-of", DEMO_END],
        ["sql", "select round(sum(difference), 2) as total_difference, "
                "count(*) as account_days from reconciliation"],
    ]


def _fresh_warehouse() -> None:
    """The demo rebuilds from scratch so it is the same every time."""
    settings = state.settings
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
    settings = state.settings
    args = ["--db", str(settings.db), "--config", str(settings.config)]
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
    """Build data/finops.duckdb from the bundled demo data, allocate, check budgets, serve."""
    demo_dir = state.settings.demo_dir
    if not (demo_dir / "aws").exists():
        raise FinOpsError(f"demo data not found in {demo_dir}")
    started = time.monotonic()
    _fresh_warehouse()
    for step in _demo_steps(demo_dir):
        _run(step)
    note(f"\nDemo warehouse built in {time.monotonic() - started:.1f}s: {state.settings.db}")
    _print_access(host, port, demo_dir)
    if not no_serve:
        from finops.cli.serve import serve

        serve(state.settings, host=host, port=port)


def _print_access(host: str, port: int, demo_dir: Path) -> None:
    base = f"http://{host}:{port}"
    note(f"\nAPI:        {base}/api/...   (OpenAPI: {base}/openapi.json, health: {base}/healthz)")
    note(f"Dashboards: {base}/dashboards/?token=demo-finance")
    note('SQL:        finops sql "select * from unowned_spend limit 10"')
    note(f"            or POST {base}/api/sql with the platform token")
    for role, token in demo_tokens(demo_dir).items():
        note(f"Token {role:<22} {token}")
