"""Export the unified ``cost_line`` as a FOCUS 1.2 file (CSV or Parquet).

All 57 FOCUS 1.2 columns, PascalCase, in spec order, then our ``x_`` columns. Columns
``cost_line`` does not keep are null (e.g. ``InvoiceId``, ``SkuPriceId``); mandatory
columns get the documented fallbacks below so a multi-source export stays valid:
- ``ListCost``/``ContractedCost``: the stored value, else the other one, else ``EffectiveCost``;
- ``InvoiceIssuerName``/``PublisherName``: issuer / provider, else ``ProviderName``;
- ``ServiceCategory``: stored value, else ``Other``; ``ServiceSubcategory`` ``Other (<category>)``.
Times are UTC: ISO 8601 ``YYYY-MM-DDTHH:MM:SSZ`` text in CSV, ``timestamp[us, UTC]`` in
Parquet. ``Tags`` is a JSON object. Rows are those whose ``ChargePeriodStart`` falls in
``[start, end]`` (whole days, end inclusive).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from models.errors import InputError

TIME = "__time__"  # placeholder: formatted per output format
LIST = "coalesce(list_cost, contracted_cost, effective_cost)"
CONTRACTED = "coalesce(contracted_cost, list_cost, effective_cost)"
CATEGORY = "coalesce(service_category, 'Other')"
# The pricing currency where the bill states it with a rate (1 pricing = rate billing), and the
# effective cost in it; both null otherwise (FOCUS 1.2 PricingCurrency*).
PRICED = "(pricing_currency = billing_currency OR x_pricing_exchange_rate > 0)"
PRICING_CURRENCY = f"CASE WHEN {PRICED} THEN pricing_currency END"
PRICING_EFFECTIVE = (f"CASE WHEN pricing_currency = billing_currency THEN effective_cost "
                     f"WHEN {PRICED} THEN effective_cost / x_pricing_exchange_rate END")
FOCUS_12: dict[str, str] = {
    "AvailabilityZone": "availability_zone",
    "BilledCost": "billed_cost",
    "BillingAccountId": "billing_account_id",
    "BillingAccountName": "billing_account_name",
    "BillingAccountType": "NULL::VARCHAR",
    "BillingCurrency": "billing_currency",
    "BillingPeriodEnd": f"{TIME}billing_period_end",
    "BillingPeriodStart": f"{TIME}billing_period_start",
    "CapacityReservationId": "NULL::VARCHAR",
    "CapacityReservationStatus": "NULL::VARCHAR",
    "ChargeCategory": "charge_category",
    "ChargeClass": "charge_class",
    "ChargeDescription": "charge_description",
    "ChargeFrequency": "charge_frequency",
    "ChargePeriodEnd": f"{TIME}charge_period_end",
    "ChargePeriodStart": f"{TIME}charge_period_start",
    "CommitmentDiscountCategory": "NULL::VARCHAR",
    "CommitmentDiscountId": "commitment_discount_id",
    "CommitmentDiscountName": "NULL::VARCHAR",
    "CommitmentDiscountQuantity": "NULL::DOUBLE",
    "CommitmentDiscountStatus": "commitment_discount_status",
    "CommitmentDiscountType": "NULL::VARCHAR",
    "CommitmentDiscountUnit": "NULL::VARCHAR",
    "ConsumedQuantity": "consumed_quantity",
    "ConsumedUnit": "consumed_unit",
    "ContractedCost": CONTRACTED,
    "ContractedUnitPrice": "NULL::DOUBLE",
    "EffectiveCost": "effective_cost",
    "InvoiceId": "NULL::VARCHAR",
    "InvoiceIssuerName": "coalesce(invoice_issuer, provider)",
    "ListCost": LIST,
    "ListUnitPrice": "NULL::DOUBLE",
    "PricingCategory": "NULL::VARCHAR",
    "PricingCurrency": PRICING_CURRENCY,
    "PricingCurrencyContractedUnitPrice": "NULL::DOUBLE",
    "PricingCurrencyEffectiveCost": PRICING_EFFECTIVE,
    "PricingCurrencyListUnitPrice": "NULL::DOUBLE",
    "PricingQuantity": "pricing_quantity",
    "PricingUnit": "pricing_unit",
    "ProviderName": "provider",
    "PublisherName": "provider",
    "RegionId": "region_id",
    "RegionName": "NULL::VARCHAR",
    "ResourceId": "resource_id",
    "ResourceName": "resource_name",
    "ResourceType": "resource_type",
    "ServiceCategory": CATEGORY,
    "ServiceName": "service_name",
    "ServiceSubcategory": f"'Other (' || {CATEGORY} || ')'",
    "SkuId": "sku_id",
    "SkuMeter": "NULL::VARCHAR",
    "SkuPriceDetails": "NULL::VARCHAR",
    "SkuPriceId": "NULL::VARCHAR",
    "SubAccountId": "sub_account_id",
    "SubAccountName": "sub_account_name",
    "SubAccountType": "NULL::VARCHAR",
    "Tags": "CASE WHEN tags IS NULL OR cardinality(tags) = 0 THEN NULL "
            "ELSE to_json(tags)::VARCHAR END",
    "x_Cluster": "x_cluster",
    "x_Namespace": "x_namespace",
    "x_Pod": "x_pod",
    "x_LineItemType": "x_line_item_type",
    "x_Source": "x_source",
    "x_IngestRun": "x_ingest_run",
}


def focus_sql(fmt: str) -> str:
    """The SELECT over ``cost_line`` (parameters ``$start``, ``$end`` exclusive)."""
    def expr(sql: str) -> str:
        if sql.startswith(TIME):
            column = sql.removeprefix(TIME)
            return f"strftime({column}, '%Y-%m-%dT%H:%M:%SZ')" if fmt == "csv" else column
        return sql
    columns = ",\n  ".join(f'{expr(sql)} AS "{name}"' for name, sql in FOCUS_12.items())
    return (f"SELECT\n  {columns}\nFROM cost_line\n"
            "WHERE charge_period_start >= $start AND charge_period_start < $end\n"
            "ORDER BY charge_period_start, billing_account_id")


def _utc(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Naive timestamps in the warehouse are UTC: say so in the Parquet type."""
    arrays = [a.cast(pa.timestamp("us", tz="UTC")) if pa.types.is_timestamp(a.type) else a
              for a in batch.columns]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def export_focus(con: duckdb.DuckDBPyConnection, start: date, end: date, path: Path) -> int:
    """Write the FOCUS 1.2 rows of ``[start, end]`` to ``path`` (.csv or .parquet)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"{path}: export format from the extension: .csv or .parquet")
    if end < start:
        raise InputError(f"--end {end} is before --start {start}")
    fmt = suffix.lstrip(".")
    params = {"start": start, "end": end + timedelta(days=1)}
    reader: pa.RecordBatchReader = con.sql(focus_sql(fmt), params=params).to_arrow_reader(100_000)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    if fmt == "csv":
        with pacsv.CSVWriter(path, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
                rows += batch.num_rows
        return rows
    schema = _utc(pa.RecordBatch.from_pylist([], schema=reader.schema)).schema
    with pq.ParquetWriter(path, schema) as writer:
        for batch in reader:
            writer.write_batch(_utc(batch))
            rows += batch.num_rows
    return rows
