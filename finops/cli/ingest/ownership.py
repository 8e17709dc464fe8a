"""``finops ingest backstage``: the Backstage catalog's entities (``ingestion.ownership``)."""

from __future__ import annotations

from pathlib import Path

import typer

from finops.cli.common import ingest_app, note, open_warehouse, state
from finops.pipeline.store import ingest
from ingestion.ownership.backstage import catalog_load
from models.errors import ConfigError


@ingest_app.command("backstage")
def ingest_backstage(
    path: Path | None = typer.Argument(
        None, help="A catalog-info tree or entity JSON file (default: finops.yaml "
                   "ownership.backstage_catalog)."),
) -> None:
    """Load the Backstage catalog (components, groups, users) for governance and Backstage."""
    catalog = path or state.finops_config().ownership.backstage_catalog
    if catalog is None:
        raise ConfigError("no catalog: give a PATH or set ownership.backstage_catalog "
                          "in finops.yaml")
    with open_warehouse() as wh:
        (run,) = ingest(wh, "backstage", [catalog], lambda _work: [catalog_load(catalog)])
    note(f"backstage: loaded {run.rows} entities from {catalog} (run {run.run_id})")
