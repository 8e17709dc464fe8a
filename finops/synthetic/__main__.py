"""``python -m finops.synthetic --size S --out DIR --seed N``: write a synthetic organisation."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from finops.cli.common import progress
from finops.synthetic.generate import generate
from finops.synthetic.spec import size as size_spec
from models.errors import FinOpsError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    size: str = typer.Option("S", "--size", help="S (the demo), M, L or XL."),
    out: Path = typer.Option(..., "--out", help="Directory to write into (created)."),
    seed: int = typer.Option(7, "--seed", help="Same seed, same bytes."),
    gcp_format: str | None = typer.Option(
        None, "--gcp-format", help="GCP export as jsonl.gz, jsonl or parquet "
        "(default: the size's own; S jsonl.gz, larger sizes parquet)."),
) -> None:
    """Generate bills (CUR 2.0, GCP export, Azure FOCUS), usage and finops.yaml."""
    spec = size_spec(size)
    with progress() as bar:
        task = bar.add_task(f"generating size {spec.name} ({spec.days} days)", total=spec.days)
        totals = generate(spec, out, seed, lambda done, _: bar.update(task, completed=done),
                          gcp_format=gcp_format)
    for account in totals["billing_accounts"]:
        typer.echo(f"{account['provider']:5} {account['billing_account_id']:22} "
                   f"effective {account['effective_cost']:12.2f} USD  {account['rows']} rows")
    typer.echo(f"wrote {out}")


def run() -> None:
    try:
        app()
    except FinOpsError as exc:
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    run()
