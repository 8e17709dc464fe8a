"""AWS Price List API -> ``price_catalog``: on-demand Linux hourly price per EC2 instance type.

The fallback price of a node the bill does not cover yet (e.g. the last 36 hours). For each
(region, instance type) seen in ``k8s_node_hour`` (or given), one paginated ``get_products``
call on an injected boto3 ``pricing`` client (endpoint us-east-1)::

    ServiceCode=AmazonEC2, Filters: regionCode, instanceType, operatingSystem=Linux,
    tenancy=Shared, preInstalledSw=NA, capacitystatus=Used, licenseModel=No License required

``PriceList`` items are JSON strings; the price is
``terms.OnDemand.<sku>.<term>.priceDimensions.<rate>.pricePerUnit.USD`` with unit ``Hrs``.
The same attributes are checked again on the answer (a filter the server ignored must not
let a Windows or dedicated-host price through). One row per (region, instance type):
resource ``instance``, unit ``hour``, spot false.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import polars as pl

from ingestion.prices import regions
from models.errors import CollectorError
from models.loads import FrameReader, IngestRun, Load, Replace
from models.schemas import PRICE_CATALOG

SOURCE = "aws-pricing"
WANTED = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
    "licenseModel": "No License required",
}


def seen(loaded: FrameReader) -> list[tuple[str, str]]:
    """(region, instance type) of AWS nodes in ``k8s_node_hour``."""
    rows = loaded.frame(
        "SELECT DISTINCT coalesce(region, regexp_extract(zone, '^(.*-[0-9]+)[a-z]$', 1)), "
        "instance_type FROM k8s_node_hour WHERE provider_id LIKE 'aws://%' "
        "AND instance_type IS NOT NULL ORDER BY ALL"
    ).rows()
    return [(str(r), str(t)) for r, t in rows if r]


def regions_seen(loaded: FrameReader) -> list[str]:
    """Regions of AWS nodes and of the AWS bill."""
    return regions.regions_seen(loaded, "aws", "provider = 'AWS'")


def filters(region: str, instance_type: str) -> list[dict[str, str]]:
    wanted = {"regionCode": region, "instanceType": instance_type, **WANTED}
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in wanted.items()]


def fetch(client: Any, region: str, instance_type: str) -> list[dict[str, Any]]:
    """Every product document the API returns for one instance type in one region."""
    try:
        pages = client.get_paginator("get_products").paginate(
            ServiceCode="AmazonEC2",
            Filters=filters(region, instance_type),
            FormatVersion="aws_v1",
            PaginationConfig={"PageSize": 100},
        )
        return [json.loads(item) for page in pages for item in page.get("PriceList", [])]
    except Exception as exc:  # botocore ClientError, endpoint errors, bad JSON
        raise CollectorError(SOURCE, f"get_products {instance_type} in {region}: {exc}") from exc


def on_demand_price(product: dict[str, Any]) -> tuple[float, str, datetime | None] | None:
    """(USD per hour, sku, effective date) of one product document, or None."""
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            usd = (dim.get("pricePerUnit") or {}).get("USD")
            if dim.get("unit") == "Hrs" and usd is not None and float(usd) > 0:
                date = term.get("effectiveDate")
                when = datetime.fromisoformat(date.replace("Z", "+00:00")) if date else None
                return float(usd), str(term.get("sku", "")), when
    return None


def matches(product: dict[str, Any], region: str, instance_type: str) -> bool:
    attrs = (product.get("product") or {}).get("attributes") or {}
    wanted = {"regionCode": region, "instanceType": instance_type, **WANTED}
    return all(attrs.get(k) == v for k, v in wanted.items())


def price_rows(client: Any, pairs: list[tuple[str, str]]) -> pl.DataFrame:
    rows = []
    for region, instance_type in pairs:
        for product in fetch(client, region, instance_type):
            price = on_demand_price(product) if matches(product, region, instance_type) else None
            if price:
                usd, sku, when = price
                rows.append(
                    {
                        "provider": "aws",
                        "region": region,
                        "instance_type": instance_type,
                        "sku_id": sku,
                        "resource": "instance",
                        "unit": "hour",
                        "price": usd,
                        "currency": "USD",
                        "spot": False,
                        "effective_from": when.replace(tzinfo=None) if when else None,
                        "x_source": SOURCE,
                    }
                )
                break
    return pl.DataFrame(rows, schema=PRICE_CATALOG.schema)


def prices_load(client: Any, pairs: list[tuple[str, str]]) -> Load:
    """A load replacing the catalog rows of these (region, instance type) pairs."""
    frame = price_rows(client, pairs)
    keys = [f"{r}/{t}" for r, t in pairs]
    where = "x_source = $source AND list_contains($keys, region || '/' || instance_type)"
    return Load(IngestRun.begin(SOURCE, keys),
                [Replace(PRICE_CATALOG, frame, where, {"source": SOURCE, "keys": keys})])
