"""``finops publish``: a fresh snapshot for readers; with ``--lake``, the results as Iceberg."""

from __future__ import annotations

from datetime import date

import typer

from finops.cli.common import app, day_option, note, note_plain, open_warehouse, state
from finops.lake import Lake, lake_for, publish_lake
from finops.warehouse import open_snapshot
from models.errors import ConfigError


@app.command("publish")
def publish_command(
    lake: str | None = typer.Option(
        None, "--lake", help="Also write allocation, cost_line and the rollups as Iceberg "
        "tables there: a path or s3://bucket/prefix (env FINOPS_LAKE__URI)."),
    start: str | None = typer.Option(
        None, "--from", help="First day written to the lake (default: each table's first)."),
    end: str | None = typer.Option(
        None, "--to", help="Last day written to the lake, inclusive (default: each table's "
        "last)."),
    full: bool = typer.Option(
        False, "--full", help="Build every serving rollup whole (default: the days loaded "
        "since the last publish), e.g. after rows were changed by SQL rather than a load."),
) -> None:
    """Publish the warehouse for readers; with --lake, replace those days in the lake."""
    first = day_option(start, "--from") if start else None
    last = day_option(end, "--to") if end else None
    if first and last and first > last:
        raise ConfigError(f"--from {start} is after --to {end}")
    target = _lake(lake)
    if (first or last) and target is None:
        raise ConfigError("--from/--to choose the lake's days: give --lake or "
                          "FINOPS_LAKE__URI")
    with open_warehouse(publish=False) as warehouse:
        if state.publishing:
            warehouse.publish(full=full)
    made = f" (snapshot: {warehouse.snapshot_made})" if warehouse.snapshot_made else ""
    note_plain(f"published {state.settings.snapshot_path}{made}")
    if target is not None:
        _to_lake(target, first, last)


def _lake(uri: str | None) -> Lake | None:
    settings = state.settings
    chosen = uri or settings.lake.uri
    if chosen is None:
        return None
    return lake_for(chosen, catalog=settings.lake.catalog, catalog_uri=settings.lake.catalog_uri,
                    namespace=settings.lake.namespace, s3_endpoint=settings.aws.endpoint_url,
                    s3_region=settings.aws.region, db_dir=settings.db.parent)


def _to_lake(lake: Lake, first: date | None, last: date | None) -> None:
    con = open_snapshot(state.settings.snapshot_path)
    try:
        publish_id, written = publish_lake(con, lake, first=first, last=last)
    finally:
        con.close()
    for table in written:
        days = f"{table.first_day}..{table.last_day}" if table.first_day else "whole"
        note_plain(f"lake {lake.namespace}.{table.table}: {table.rows} rows, days {days}, "
                   f"snapshot {table.snapshot_id}")
    note(f"lake publish {publish_id}: {len(written)} tables at {lake.uri}")
