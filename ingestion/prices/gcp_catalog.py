"""GCP Cloud Billing Catalog -> ``price_catalog``: Compute Engine vCPU, RAM and GPU prices.

``CloudCatalogClient.list_skus(parent="services/6F81-5844-456A")`` (Compute Engine) on an
injected client; the pager follows ``nextPageToken``. A SKU is kept when
``category.resource_family == "Compute"``, its ``resource_group`` is CPU, RAM or GPU and its
``usage_type`` is OnDemand (spot false) or Preemptible (spot true). One row per service
region:

- resource ``cpu`` unit ``vcpu-hour`` (usage unit ``h``), ``ram`` unit ``gib-hour``
  (``GiBy.h``), ``gpu`` unit ``hour``;
- ``instance_type`` = the machine family from the description, lower case (``"E2 Instance
  Core running in Americas"`` -> ``e2``; ``"T2D AMD Instance Ram …"`` -> ``t2d``); for GPUs
  the accelerator (``"Nvidia Tesla A100 GPU …"`` -> ``nvidia-tesla-a100``). A machine type
  ``e2-standard-4`` finds its rows by the prefix before the first ``-``;
- price = ``units + nanos / 1e9`` of the first tier with a non-zero price (free tiers come
  first), in the SKU's own currency (``unit_price.currency_code``; pass ``currency_code``
  to ask the API for one currency).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import polars as pl

from ingestion.prices import regions
from models.errors import CollectorError
from models.loads import FrameReader, IngestRun, Load, Replace
from models.schemas import PRICE_CATALOG

SOURCE = "gcp-catalog"
COMPUTE_ENGINE = "services/6F81-5844-456A"
RESOURCES = {"CPU": ("cpu", "vcpu-hour"), "RAM": ("ram", "gib-hour"), "GPU": ("gpu", "hour")}
UNITS = {"cpu": "h", "ram": "GiBy.h", "gpu": "h"}
FAMILY = re.compile(
    r"^(?:Spot Preemptible |Preemptible )?(?P<family>[A-Za-z0-9]+)\b.*?"
    r"\bInstance (?:Core|Ram)\b"
)
GPU = re.compile(r"^(?:Spot Preemptible |Preemptible )?(?P<name>.+?) GPU\b")


def first_price(rates: Any) -> tuple[float, str] | None:
    """(price, currency) of the first tier whose price is not zero."""
    for rate in rates:
        money = rate.unit_price
        price = int(money.units) + int(money.nanos) / 1e9
        if price != 0:
            return price, str(money.currency_code)
    return None


def family(description: str, resource: str) -> str | None:
    if resource == "gpu":
        match = GPU.match(description)
        return match["name"].lower().replace(" ", "-") if match else None
    match = FAMILY.match(description)
    return match["family"].lower() if match else None


def sku_rows(sku: Any, regions: set[str] | None) -> list[dict[str, Any]]:
    category = sku.category
    if category.resource_family != "Compute" or category.resource_group not in RESOURCES:
        return []
    if category.usage_type not in ("OnDemand", "Preemptible"):
        return []
    resource, unit = RESOURCES[category.resource_group]
    name = family(sku.description, resource)
    info = sku.pricing_info[0] if sku.pricing_info else None
    if name is None or info is None or info.pricing_expression.usage_unit != UNITS[resource]:
        return []
    price = first_price(info.pricing_expression.tiered_rates)
    if price is None:
        return []
    when = _naive(info.effective_time)
    return [
        {
            "provider": "gcp",
            "region": region,
            "instance_type": name,
            "sku_id": sku.sku_id,
            "resource": resource,
            "unit": unit,
            "price": price[0],
            "currency": price[1],
            "spot": category.usage_type == "Preemptible",
            "effective_from": when,
            "x_source": SOURCE,
        }
        for region in sku.service_regions
        if regions is None or region in regions
    ]


def _naive(value: Any) -> datetime | None:
    """Naive UTC (the warehouse convention) from the proto timestamp."""
    if not value:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def price_rows(
    client: Any, regions: set[str] | None, currency_code: str | None = None
) -> pl.DataFrame:
    request: dict[str, Any] = {"parent": COMPUTE_ENGINE}
    if currency_code:
        request["currency_code"] = currency_code
    try:
        rows = [row for sku in client.list_skus(request=request) for row in sku_rows(sku, regions)]
    except Exception as exc:  # google.api_core errors, transport errors
        raise CollectorError(SOURCE, f"list_skus {COMPUTE_ENGINE}: {exc}") from exc
    return pl.DataFrame(rows, schema=PRICE_CATALOG.schema)


def regions_seen(loaded: FrameReader) -> set[str]:
    """Regions of GCE nodes and of the Google bill."""
    return set(regions.regions_seen(
        loaded, "gce", "lower(provider) LIKE '%google%' OR lower(provider) = 'gcp'"))


def prices_load(client: Any, regions: set[str] | None, currency_code: str | None = None) -> Load:
    """A load replacing the catalog rows of the regions synced (all when none are given)."""
    frame = price_rows(client, regions, currency_code)
    synced = sorted(set(frame["region"].to_list()))
    where = "x_source = $source AND list_contains($regions, region)"
    return Load(IngestRun.begin(SOURCE, [COMPUTE_ENGINE]),
                [Replace(PRICE_CATALOG, frame, where, {"source": SOURCE, "regions": synced})])
