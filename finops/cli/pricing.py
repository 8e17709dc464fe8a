"""``finops pricing sync aws|gcp``: list prices into price_catalog (fallback node prices).

Clients are built here (from settings.aws and the flags) and handed to the collectors.
"""

from __future__ import annotations

import typer

from finops.cli.common import boto_client, note, open_warehouse, pricing_app, progress
from finops.pipeline.store import ingest
from finops.warehouse import Warehouse
from ingestion.prices import aws_pricing, gcp_catalog
from models.errors import CollectorError, InputError
from models.loads import IngestRun


@pricing_app.command("sync")
def pricing_sync(
    provider: str = typer.Argument(..., help="aws or gcp"),
    region: list[str] = typer.Option([], "--region", help="Region(s); default: the regions "
                                      "seen in k8s_node_hour / cost_line."),
    instance_type: list[str] = typer.Option([], "--instance-type", help="AWS instance "
                                            "type(s); default: those seen in k8s_node_hour."),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url", help="API endpoint."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile."),
) -> None:
    """Fetch list prices into price_catalog (fallback prices for unbilled nodes)."""
    if provider not in ("aws", "gcp"):
        raise InputError(f"pricing sync: unknown provider {provider!r} (aws or gcp)")
    with open_warehouse() as warehouse, progress() as bar:
        bar.add_task(f"pricing {provider}", total=None)
        if provider == "aws":
            run = _sync_aws(warehouse, region, instance_type, endpoint_url, profile)
        else:
            run = _sync_gcp(warehouse, region, endpoint_url)
    note(f"pricing {provider}: {run.rows} prices ({run.status}, run {run.run_id})")


def _sync_aws(warehouse: Warehouse, regions: list[str], types: list[str],
              endpoint_url: str | None, profile: str | None) -> IngestRun:
    pairs = aws_pricing.seen(warehouse)
    if types:
        pairs = [(r, t) for r in (regions or aws_pricing.regions_seen(warehouse)) for t in types]
    elif regions:
        pairs = [(r, t) for r, t in pairs if r in regions]
    if not pairs:
        raise InputError("pricing sync aws: no (region, instance type) known; ingest cluster "
                         "usage first or pass --region and --instance-type")
    client = boto_client("pricing", endpoint_url, profile, region="us-east-1")
    keys = [f"{r}/{t}" for r, t in pairs]
    [run] = ingest(warehouse, aws_pricing.SOURCE, keys,
                   lambda _work: [aws_pricing.prices_load(client, pairs)])
    return run


def _sync_gcp(warehouse: Warehouse, regions: list[str], endpoint_url: str | None) -> IngestRun:
    from google.cloud import billing_v1

    options = {"api_endpoint": endpoint_url} if endpoint_url else None
    try:
        client = billing_v1.CloudCatalogClient(client_options=options, transport="rest")
    except Exception as exc:  # google.auth DefaultCredentialsError and friends
        raise CollectorError("gcp-catalog", f"cannot create the catalog client: {exc}") from None
    wanted = set(regions) or gcp_catalog.regions_seen(warehouse) or None
    [run] = ingest(warehouse, gcp_catalog.SOURCE, [gcp_catalog.COMPUTE_ENGINE],
                   lambda _work: [gcp_catalog.prices_load(client, wanted)])
    return run
