"""Azure Cost Management exports -> ``cost_line``.

Handles the cost-details dialects Azure has shipped (headers matched case-insensitively):
EA (``Cost`` or ``CostInBillingCurrency``, ``BillingCurrency``/``BillingCurrencyCode``),
MCA camelCase (``costInBillingCurrency``, ``paygCostInBillingCurrency``, ``InstanceName``),
and the retired v1 usage details (``UsageDateTime``, ``PreTaxCost``, ``SubscriptionGuid``,
``InstanceId``); brace-less ``Tags``; ``MM/DD/YYYY`` dates; a BOM. ``FocusCost`` exports
(FOCUS columns) go through the FOCUS reader.

Money (``cost`` = the dialect's cost column, in the billing currency):
- **actual** export: ``billed_cost = effective_cost = cost`` (purchases stay where billed;
  no amortization information exists in this dataset).
- **amortized** export: ``effective_cost = cost``; ``billed_cost = 0`` on commitment-covered
  usage and ``UnusedReservation``/``UnusedSavingsPlan`` rows (the purchase is what gets
  billed, see the actual export), else ``cost``.
- ``list_cost`` = ``paygCostInBillingCurrency``, else ``PayGPrice * Quantity``, else cost;
  ``contracted_cost`` = ``UnitPrice * Quantity``, else cost.
Currency: the cost columns are in the billing currency; when the export says in which
currency prices are (``PricingCurrency``/``pricingCurrencyCode``) and the rate between them
(``ExchangeRatePricingToBilling``, ``exchangeRate``: 1 pricing = rate billing), both are kept
(``pricing_currency``, ``x_pricing_exchange_rate``) and finops.fx converts with them first.
Actual and amortized exports of one billing account and period are two views of the same
charges: both use source ``azure``, so they are never summed by surprise: loading one where
the other is loaded is refused until ``--replace`` says it restates the period
(``ingestion.billing.restatement``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import polars as pl

from ingestion.billing import focus
from ingestion.billing.checks import check_required_values
from ingestion.billing.columns import column_index, pick, require_columns
from ingestion.billing.cost_lines import cost_line_frame
from ingestion.billing.reading import read_rows
from ingestion.billing.tags import parse_tags
from ingestion.billing.values import canonical_resource_id, parse_number, parse_timestamp
from models.errors import InputError

SOURCE = "azure"
PROVIDER = "Microsoft"

COLUMNS: dict[str, tuple[str, ...]] = {
    "billing_account_id": ("BillingAccountId",),
    "billing_account_name": ("BillingAccountName",),
    "subscription": ("SubscriptionId", "SubscriptionGuid"),
    "sub_account_name": ("SubscriptionName",),
    "billing_currency": ("BillingCurrency", "BillingCurrencyCode", "Currency"),
    "pricing_currency": ("PricingCurrency", "PricingCurrencyCode"),
    "exchange_rate": ("ExchangeRatePricingToBilling", "ExchangeRate"),
    "period_start": ("BillingPeriodStartDate",),
    "period_end": ("BillingPeriodEndDate",),
    "date": ("Date", "UsageDateTime", "UsageDate"),
    "cost": ("Cost", "CostInBillingCurrency", "PreTaxCost"),
    "charge_type": ("ChargeType",),
    "frequency": ("Frequency",),
    "pricing_model": ("PricingModel",),
    "charge_description": ("Product", "ProductName", "MeterName"),
    "service_name": ("MeterCategory", "ServiceName"),
    "region_id": ("ResourceLocation",),
    "availability_zone": ("AvailabilityZone",),
    "resource_id": ("ResourceId", "InstanceId", "InstanceName"),
    "resource_name": ("ResourceName",),
    "resource_type": ("ResourceType",),
    "sku_id": ("ProductId", "PartNumber", "MeterId"),
    "quantity": ("Quantity", "UsageQuantity"),
    "unit": ("UnitOfMeasure",),
    "payg_cost": ("PaygCostInBillingCurrency",),
    "payg_price": ("PayGPrice",),
    "unit_price": ("UnitPrice",),
    "benefit_id": ("benefitId", "ReservationId"),
    "tags": ("Tags",),
    "reseller": ("ResellerName",),
}
NUMBERS = ("cost", "quantity", "payg_cost", "payg_price", "unit_price", "exchange_rate")
CHARGE_CATEGORY = {
    "usage": "Usage",
    "purchase": "Purchase",
    "tax": "Tax",
    "unusedreservation": "Usage",
    "unusedsavingsplan": "Usage",
    "refund": "Purchase",
    "roundingadjustment": "Adjustment",
}
FREQUENCY = {"onetime": "One-Time", "recurring": "Recurring", "usagebased": "Usage-Based"}
COMMITTED = ("reservation", "savingsplan")


@dataclass(frozen=True)
class Options:
    dataset: str = "auto"  # actual | amortized | auto (file name, then content)
    billing_account_id: str | None = None
    billing_currency: str | None = None


def read_azure(path: Path, options: Options = Options()) -> pl.DataFrame:
    """One Azure export file as a COST_LINE-shaped frame (plus ``_row``)."""
    frame = read_rows(path)
    if focus.is_focus(frame.columns):
        defaults = focus.Defaults(options.billing_account_id, options.billing_currency, PROVIDER)
        return focus.read_focus(path, defaults, frame=frame)
    index = column_index(frame.columns)
    found = {k: c for k, names in COLUMNS.items() if (c := pick(index, *names))}
    _require(path, found, options)
    values = _typed(frame, found, path)
    out = cost_line_frame(frame, _columns(frame, values, path, options))
    check_required_values(out, path)
    return out


def _require(path: Path, found: dict[str, str], options: Options) -> None:
    missing = [COLUMNS[k][0] for k in ("date", "cost") if k not in found]
    if "billing_currency" not in found and options.billing_currency is None:
        missing.append("BillingCurrency")
    if not {"billing_account_id", "subscription"} & found.keys() and not options.billing_account_id:
        missing.append("BillingAccountId")
    require_columns(path, missing)


def _typed(frame: pl.DataFrame, found: dict[str, str], path: Path) -> dict[str, pl.Series]:
    """Every found column as a Series: numbers and dates parsed, text as text."""
    values: dict[str, pl.Series] = {}
    for key, column in found.items():
        if key in NUMBERS:
            values[key] = parse_number(frame, column, path)
        elif key in ("date", "period_start", "period_end"):
            values[key] = parse_timestamp(frame, column, path)
        elif key != "tags":
            values[key] = frame[column].cast(pl.String)
    values["tags"] = parse_tags(frame, found.get("tags"), path)
    return values


def _get(
    values: dict[str, pl.Series],
    key: str,
    height: int,
    dtype: type[pl.DataType] | pl.DataType = pl.String,
) -> pl.Series:
    return values.get(key, pl.Series(key, [None] * height, dtype=dtype))


def detect_dataset(path: Path, values: dict[str, pl.Series], height: int) -> str:
    """``amortized`` or ``actual``, from the file name, else from the rows."""
    name = path.name.lower()
    for dataset in ("amortized", "actual"):
        if dataset in name:
            return dataset
    kind = _get(values, "charge_type", height).str.to_lowercase()
    model = _get(values, "pricing_model", height).str.to_lowercase()
    cost = _get(values, "cost", height, pl.Float64)
    unused = kind.str.starts_with("unused").any()
    covered = (model.is_in(COMMITTED) & (kind == "usage") & (cost != 0)).any()
    return "amortized" if unused or covered else "actual"


def _lookup(series: pl.Series, table: dict[str, str]) -> pl.Series:
    keys = series.str.to_lowercase().str.replace_all(r"[^a-z]", "")
    return keys.replace_strict(table, default=None, return_dtype=pl.String)


def _columns(
    frame: pl.DataFrame, values: dict[str, pl.Series], path: Path, options: Options
) -> dict[str, object]:
    n = frame.height
    dataset = options.dataset if options.dataset != "auto" else detect_dataset(path, values, n)
    if dataset not in ("actual", "amortized"):
        raise InputError(f"{path}: unknown Azure dataset {dataset!r} (actual or amortized)")
    cost = values["cost"]
    kind = _get(values, "charge_type", n).fill_null("Usage")
    model = _get(values, "pricing_model", n).str.to_lowercase()
    lower_kind = kind.str.to_lowercase()
    unused = lower_kind.str.starts_with("unused")
    committed_use = model.is_in(COMMITTED) & ((lower_kind == "usage") | unused)
    billed = cost
    if dataset == "amortized":
        billed = pl.select(
            pl.when(committed_use.fill_null(False)).then(0.0).otherwise(cost)
        ).to_series()
    quantity = _get(values, "quantity", n, pl.Float64)
    columns: dict[str, object] = {
        "billing_account_id": _account(values, n, options),
        "billing_account_name": _get(values, "billing_account_name", n),
        "sub_account_id": _subscription(values, n),
        "sub_account_name": _get(values, "sub_account_name", n),
        "provider": PROVIDER,
        "invoice_issuer": _get(values, "reseller", n).fill_null(PROVIDER),
        "billing_currency": _get(values, "billing_currency", n).fill_null(options.billing_currency)
        if options.billing_currency
        else _get(values, "billing_currency", n),
        "charge_period_start": values["date"],
        "charge_period_end": values["date"] + timedelta(days=1),
        "charge_category": _lookup(kind, CHARGE_CATEGORY).fill_null("Usage"),
        "charge_class": pl.select(
            pl.when(lower_kind == "refund").then(pl.lit("Correction")).otherwise(None)
        ).to_series(),
        "charge_frequency": _lookup(_get(values, "frequency", n), FREQUENCY),
        "list_cost": _list_cost(values, cost, quantity),
        "contracted_cost": _times(values.get("unit_price"), quantity, cost),
        "billed_cost": billed,
        "effective_cost": cost,
        "pricing_quantity": quantity,
        "pricing_unit": _get(values, "unit", n),
        "consumed_quantity": quantity,
        "consumed_unit": _get(values, "unit", n),
        "tags": values["tags"],
        "x_line_item_type": kind,
        "x_source_file": str(path),
    }
    columns |= _exchange_rate(values, n)
    columns |= _period(values)
    columns |= _commitment(values, committed_use, unused, n)
    columns |= {
        k: values[k]
        for k in (
            "charge_description",
            "service_name",
            "availability_zone",
            "resource_name",
            "resource_type",
            "sku_id",
        )
        if k in values
    }
    columns["region_id"] = _get(values, "region_id", n).str.to_lowercase()
    columns["resource_id"] = canonical_resource_id(
        _get(values, "resource_id", n), _get(values, "resource_name", n)
    )
    return columns


def _exchange_rate(values: dict[str, pl.Series], n: int) -> dict[str, pl.Series]:
    """The export's own rate, only with the currency it is from (a rate from an unknown
    currency converts nothing)."""
    currency = _get(values, "pricing_currency", n).str.strip_chars().str.to_uppercase()
    rate = _get(values, "exchange_rate", n, pl.Float64)
    known = currency.is_not_null() & rate.is_not_null() & (rate > 0)
    return {"pricing_currency": pl.select(pl.when(known).then(currency)).to_series(),
            "x_pricing_exchange_rate": pl.select(pl.when(known).then(rate)).to_series()}


def _account(values: dict[str, pl.Series], n: int, options: Options) -> pl.Series:
    """Billing account, else the --billing-account option, else the subscription (v1)."""
    account = _get(values, "billing_account_id", n)
    if options.billing_account_id:
        account = account.fill_null(options.billing_account_id)
    return pl.select(pl.coalesce(account, _get(values, "subscription", n))).to_series()


def _subscription(values: dict[str, pl.Series], n: int) -> pl.Series:
    """FOCUS SubAccountId: the ARM path ``/subscriptions/<guid>``."""
    guid = _get(values, "subscription", n).str.to_lowercase()
    return pl.select(
        pl.when(guid.is_null() | guid.str.starts_with("/"))
        .then(guid)
        .otherwise(pl.lit("/subscriptions/") + guid)
    ).to_series()


def _period(values: dict[str, pl.Series]) -> dict[str, pl.Series]:
    """Billing period; the export's end date is inclusive. Without one: the usage month."""
    month = values["date"].dt.truncate("1mo")
    start = values.get("period_start")
    start = month if start is None else start.fill_null(month)
    end = values.get("period_end")
    next_month = start.dt.offset_by("1mo")
    end = next_month if end is None else (end + timedelta(days=1)).fill_null(next_month)
    return {"billing_period_start": start, "billing_period_end": end}


def _times(price: pl.Series | None, quantity: pl.Series, fallback: pl.Series) -> pl.Series:
    if price is None:
        return fallback
    return pl.select(pl.coalesce(price * quantity, fallback)).to_series()


def _list_cost(values: dict[str, pl.Series], cost: pl.Series, quantity: pl.Series) -> pl.Series:
    if "payg_cost" in values:
        return pl.select(pl.coalesce(values["payg_cost"], cost)).to_series()
    return _times(values.get("payg_price"), quantity, cost)


def _commitment(
    values: dict[str, pl.Series], committed_use: pl.Series, unused: pl.Series, n: int
) -> dict[str, pl.Series]:
    benefit = _get(values, "benefit_id", n).str.to_lowercase()
    status = pl.select(
        pl.when(unused).then(pl.lit("Unused")).when(committed_use).then(pl.lit("Used"))
    ).to_series()
    return {
        "commitment_discount_id": pl.select(
            pl.when(status.is_not_null()).then(benefit)
        ).to_series(),
        "commitment_discount_status": status,
    }
