"""The CUR 2.0 (AWS Data Exports, table COST_AND_USAGE_REPORT) column set and Parquet types.

Column names are the 116 of AWS's default CUR 2.0 query (without split cost allocation and
IAM principal data), as listed in shared/reference/billing-formats.md §2.2. Maps are Parquet
MAP columns; timestamps are millisecond precision, UTC wall clock.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

S, D, TS, MAP_S, MAP_D = "s", "d", "ts", "map_s", "map_d"

_GROUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "bill": (("bill_bill_type", S), ("bill_billing_entity", S),
             ("bill_billing_period_end_date", TS), ("bill_billing_period_start_date", TS),
             ("bill_invoice_id", S), ("bill_invoicing_entity", S),
             ("bill_payer_account_id", S), ("bill_payer_account_name", S)),
    "misc": (("cost_category", MAP_S), ("discount", MAP_D), ("discount_bundled_discount", D),
             ("discount_total_discount", D), ("identity_line_item_id", S),
             ("identity_time_interval", S)),
    "line_item": tuple((n, t) for n, t in (
        ("line_item_availability_zone", S), ("line_item_blended_cost", D),
        ("line_item_blended_rate", S), ("line_item_currency_code", S),
        ("line_item_legal_entity", S), ("line_item_line_item_description", S),
        ("line_item_line_item_type", S), ("line_item_net_unblended_cost", D),
        ("line_item_net_unblended_rate", S), ("line_item_normalization_factor", D),
        ("line_item_normalized_usage_amount", D), ("line_item_operation", S),
        ("line_item_product_code", S), ("line_item_resource_id", S),
        ("line_item_tax_type", S), ("line_item_unblended_cost", D),
        ("line_item_unblended_rate", S), ("line_item_usage_account_id", S),
        ("line_item_usage_account_name", S), ("line_item_usage_amount", D),
        ("line_item_usage_end_date", TS), ("line_item_usage_start_date", TS),
        ("line_item_usage_type", S))),
    "pricing": (("pricing_currency", S), ("pricing_lease_contract_length", S),
                ("pricing_offering_class", S), ("pricing_public_on_demand_cost", D),
                ("pricing_public_on_demand_rate", S), ("pricing_purchase_option", S),
                ("pricing_rate_code", S), ("pricing_rate_id", S), ("pricing_term", S),
                ("pricing_unit", S)),
    "product": (("product", MAP_S), ("product_comment", S), ("product_fee_code", S),
                ("product_fee_description", S), ("product_from_location", S),
                ("product_from_location_type", S), ("product_from_region_code", S),
                ("product_instance_family", S), ("product_instance_type", S),
                ("product_instancesku", S), ("product_location", S),
                ("product_location_type", S), ("product_operation", S),
                ("product_pricing_unit", S), ("product_product_family", S),
                ("product_region_code", S), ("product_servicecode", S), ("product_sku", S),
                ("product_to_location", S), ("product_to_location_type", S),
                ("product_to_region_code", S), ("product_usagetype", S)),
    "reservation": tuple((f"reservation_{n}", t) for n, t in (
        ("amortized_upfront_cost_for_usage", D), ("amortized_upfront_fee_for_billing_period", D),
        ("availability_zone", S), ("effective_cost", D), ("end_time", S),
        ("modification_status", S), ("net_amortized_upfront_cost_for_usage", D),
        ("net_amortized_upfront_fee_for_billing_period", D), ("net_effective_cost", D),
        ("net_recurring_fee_for_usage", D),
        ("net_unused_amortized_upfront_fee_for_billing_period", D),
        ("net_unused_recurring_fee", D), ("net_upfront_value", D),
        ("normalized_units_per_reservation", S), ("number_of_reservations", S),
        ("recurring_fee_for_usage", D), ("reservation_a_r_n", S), ("start_time", S),
        ("subscription_id", S), ("total_reserved_normalized_units", S),
        ("total_reserved_units", S), ("units_per_reservation", S),
        ("unused_amortized_upfront_fee_for_billing_period", D),
        ("unused_normalized_unit_quantity", D), ("unused_quantity", D),
        ("unused_recurring_fee", D), ("upfront_value", D))),
    "resource_tags": (("resource_tags", MAP_S),),
    "savings_plan": tuple((f"savings_plan_{n}", t) for n, t in (
        ("amortized_upfront_commitment_for_billing_period", D), ("end_time", S),
        ("instance_type_family", S), ("net_amortized_upfront_commitment_for_billing_period", D),
        ("net_recurring_commitment_for_billing_period", D),
        ("net_savings_plan_effective_cost", D), ("offering_type", S), ("payment_option", S),
        ("purchase_term", S), ("recurring_commitment_for_billing_period", D), ("region", S),
        ("savings_plan_a_r_n", S), ("savings_plan_effective_cost", D),
        ("savings_plan_rate", D), ("start_time", S), ("total_commitment_to_date", D),
        ("used_commitment", D))),
    "tags": (("tags", MAP_S),),
}
COLUMNS: tuple[tuple[str, str], ...] = tuple(c for g in _GROUPS.values() for c in g)
NAMES = tuple(n for n, _ in COLUMNS)

_ARROW = {S: pa.string(), D: pa.float64(), TS: pa.timestamp("ms"),
          MAP_S: pa.map_(pa.string(), pa.string()), MAP_D: pa.map_(pa.string(), pa.float64())}
_PolarsType = pl.DataType | type[pl.DataType]
_POLARS: dict[str, _PolarsType] = {S: pl.String, D: pl.Float64, TS: pl.Datetime("ms"),
           MAP_S: pl.List(pl.Struct({"key": pl.String, "value": pl.String})),
           MAP_D: pl.List(pl.Struct({"key": pl.String, "value": pl.Float64}))}
ARROW_SCHEMA = pa.schema([(n, _ARROW[t]) for n, t in COLUMNS])
GLUE_TYPES = {S: "string", D: "double", TS: "timestamp", MAP_S: "map<string,string>",
              MAP_D: "map<string,double>"}


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """All CUR columns in order with their types; absent columns are nulls (maps: empty)."""
    exprs = []
    for name, kind in COLUMNS:
        dtype = _POLARS[kind]
        if name in frame.columns:
            expr = pl.col(name).cast(dtype)
        else:
            expr = pl.lit(None, dtype).alias(name)
        if kind in (MAP_S, MAP_D):
            expr = expr.fill_null(pl.lit([], dtype))
        exprs.append(expr.alias(name))
    return frame.select(exprs)


def _to_map(column: pa.ChunkedArray, map_type: pa.MapType) -> pa.Array:
    lists = column.combine_chunks().cast(pa.list_(pa.struct([
        ("key", pa.string()), ("value", map_type.item_type)])))
    entries = lists.flatten()
    return pa.MapArray.from_arrays(lists.offsets, entries.field("key"), entries.field("value"))


def to_arrow(frame: pl.DataFrame) -> pa.Table:
    table = frame.to_arrow()
    arrays = []
    for (name, kind), field in zip(COLUMNS, ARROW_SCHEMA, strict=True):
        column = table.column(name)
        if kind in (MAP_S, MAP_D):
            arrays.append(_to_map(column, field.type))
        else:
            arrays.append(column.combine_chunks().cast(field.type))
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA)
