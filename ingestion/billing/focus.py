"""FOCUS 1.0–1.3 files (CSV, CSV.gz, Parquet) from any provider -> ``cost_line``.

Column names are matched case- and punctuation-insensitively (``BilledCost``,
``billedcost``, ``Billed Cost``), and the names earlier versions used are aliases
(0.5/1.0-preview ``AmortizedCost``, ``ChargeType``, ``UsageQuantity``, ``Provider``,
``BilledCurrency``...; 1.3 ``ServiceProviderName``). IDs stay strings. ``x_`` columns of
the file are kept only when ``cost_line`` has a column of that name (``x_Cluster`` ->
``x_cluster``); other custom columns are dropped (the table's x_ columns are fixed).

Currency (FOCUS 1.2): ``PricingCurrency`` is kept; the rate between it and the billing
currency (1 pricing = x billing, ``x_pricing_exchange_rate``) is the provider's own
(Azure ``x_BillingExchangeRate``; GCP's ``x_CurrencyConversionRate``, from USD), else
``EffectiveCost / PricingCurrencyEffectiveCost`` of the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingestion.billing.checks import check_required_values
from ingestion.billing.columns import column_index, norm, pick, require_columns
from ingestion.billing.cost_lines import cost_line_frame
from ingestion.billing.reading import read_rows
from ingestion.billing.tags import parse_tags
from ingestion.billing.values import (
    canonical_enum,
    canonical_resource_id,
    parse_number,
    parse_timestamp,
)
from models.errors import InputError
from models.schemas import COST_LINE

SOURCE = "focus"

ALIASES: dict[str, tuple[str, ...]] = {
    "billing_account_id": ("BillingAccountId",),
    "billing_account_name": ("BillingAccountName",),
    "sub_account_id": ("SubAccountId",),
    "sub_account_name": ("SubAccountName",),
    # 1.3 deprecates ProviderName in favour of ServiceProviderName
    "provider": ("ServiceProviderName", "ProviderName", "Provider"),
    "invoice_issuer": ("InvoiceIssuerName", "InvoiceIssuer"),
    "billing_currency": ("BillingCurrency", "BilledCurrency"),
    "billing_period_start": ("BillingPeriodStart",),
    "billing_period_end": ("BillingPeriodEnd",),
    "charge_period_start": ("ChargePeriodStart",),
    "charge_period_end": ("ChargePeriodEnd",),
    "charge_category": ("ChargeCategory", "ChargeType"),
    "charge_class": ("ChargeClass",),
    "charge_frequency": ("ChargeFrequency",),
    "charge_description": ("ChargeDescription",),
    "service_name": ("ServiceName",),
    "service_category": ("ServiceCategory",),
    "region_id": ("RegionId", "Region"),
    "availability_zone": ("AvailabilityZone",),
    "resource_id": ("ResourceId",),
    "resource_name": ("ResourceName",),
    "resource_type": ("ResourceType",),
    "sku_id": ("SkuId",),
    "pricing_quantity": ("PricingQuantity",),
    "pricing_unit": ("PricingUnit",),
    "consumed_quantity": ("ConsumedQuantity", "UsageQuantity"),
    "consumed_unit": ("ConsumedUnit", "UsageUnit"),
    "list_cost": ("ListCost",),
    "billed_cost": ("BilledCost",),
    "effective_cost": ("EffectiveCost", "AmortizedCost"),
    "contracted_cost": ("ContractedCost",),
    "commitment_discount_id": ("CommitmentDiscountId",),
    "commitment_discount_status": ("CommitmentDiscountStatus",),
    "tags": ("Tags",),
    "pricing_currency": ("PricingCurrency",),
}
# Rate columns: providers' own (1 pricing currency = x billing currency), and the pricing
# currency amount a rate can be derived from.
RATES = {"rate": ("x_BillingExchangeRate", "x_CurrencyConversionRate"),
         "pricing_effective_cost": ("PricingCurrencyEffectiveCost",)}
NUMBERS = (
    "pricing_quantity",
    "consumed_quantity",
    "list_cost",
    "billed_cost",
    "effective_cost",
    "contracted_cost",
)
TIMES = ("billing_period_start", "billing_period_end", "charge_period_start", "charge_period_end")
REQUIRED = (
    "billed_cost",
    "effective_cost",
    "charge_period_start",
    "charge_period_end",
    "billing_period_start",
    "billing_period_end",
    "charge_category",
)
# x_ columns of cost_line a FOCUS file may carry itself (provenance columns are ours)
KEPT_X = tuple(
    c
    for c in COST_LINE.columns
    if c.startswith("x_") and c not in ("x_source", "x_source_file", "x_ingest_run")
)


@dataclass(frozen=True)
class Defaults:
    """Values for columns a file lacks (e.g. the spec's partial example tables)."""

    billing_account_id: str | None = None
    billing_currency: str | None = None
    provider: str | None = None


def is_focus(columns: list[str]) -> bool:
    index = column_index(columns)
    return all(pick(index, *ALIASES[c]) for c in ("billed_cost", "charge_period_start"))


def resolve(columns: list[str], path: Path | str, defaults: Defaults) -> dict[str, str]:
    """cost_line column -> the file's column; InputError listing what is missing."""
    index = column_index(columns)
    found = {t: c for t, names in ALIASES.items() if (c := pick(index, *names))}
    found |= {x: c for x in KEPT_X if (c := index.get(norm(x)))}
    needed = list(REQUIRED)
    needed += [
        c for c in ("billing_account_id", "billing_currency") if getattr(defaults, c) is None
    ]
    missing = [ALIASES[t][0] for t in needed if t not in found]
    require_columns(path, missing)
    return found


def _value(frame: pl.DataFrame, target: str, column: str, path: Path) -> pl.Series:
    if target in NUMBERS:
        return parse_number(frame, column, path)
    if target in TIMES:
        return parse_timestamp(frame, column, path)
    series = frame[column]
    if isinstance(series.dtype, pl.List | pl.Struct | pl.Array):
        raise InputError(f"{path}: column {column!r} has type {series.dtype}, expected text")
    series = series.cast(pl.String)
    if target in (
        "charge_category",
        "charge_frequency",
        "commitment_discount_status",
        "charge_class",
    ):
        series = canonical_enum(series, target)
    return series


def _exchange_rate(frame: pl.DataFrame, columns: dict[str, object], path: Path) -> pl.Series:
    """1 PricingCurrency = x BillingCurrency: the provider's rate, else derived from the
    line's two effective costs; null without a pricing currency."""
    index = column_index(frame.columns)
    found = {k: parse_number(frame, c, path) for k, names in RATES.items()
             if (c := pick(index, *names))}
    none = pl.Series([None] * frame.height, dtype=pl.Float64)
    effective, currency = columns.get("effective_cost"), columns.get("pricing_currency")
    derived = none
    if "pricing_effective_cost" in found and isinstance(effective, pl.Series):
        priced = found["pricing_effective_cost"]
        derived = pl.select(pl.when(priced != 0).then(effective / priced)).to_series()
    rate = pl.select(pl.coalesce(found.get("rate", none), derived)).to_series()
    if not isinstance(currency, pl.Series):
        return none
    return pl.select(pl.when(currency.is_not_null() & (rate > 0)).then(rate)).to_series()


def read_focus(
    path: Path, defaults: Defaults = Defaults(), *, frame: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One FOCUS file as a COST_LINE-shaped frame (plus ``_row``)."""
    frame = read_rows(path) if frame is None else frame
    found = resolve(frame.columns, path, defaults)
    columns: dict[str, object] = {
        t: _value(frame, t, c, path) for t, c in found.items() if t != "tags"
    }
    columns["tags"] = parse_tags(frame, found.get("tags"), path)
    for name in ("billing_account_id", "billing_currency", "provider"):
        if name not in found:
            columns[name] = getattr(defaults, name)
    if "resource_id" in found:
        names = columns.get("resource_name")
        if not isinstance(names, pl.Series):
            names = pl.Series([None] * frame.height, dtype=pl.String)
        columns["resource_id"] = canonical_resource_id(frame[found["resource_id"]], names)
    columns["x_source_file"] = str(path)
    columns["x_pricing_exchange_rate"] = _exchange_rate(frame, columns, path)
    out = cost_line_frame(frame, columns)
    check_required_values(out, path)
    return out
