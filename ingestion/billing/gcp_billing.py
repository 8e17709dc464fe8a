"""GCP Cloud Billing export (standard and detailed/resource-level) -> ``cost_line``.

Rows come from BigQuery (``bq://project.dataset.table``, read with an injected
``google.cloud.bigquery.Client``) or from files of the same rows: JSONL / Parquet (nested
records) or CSV (records flattened to ``service.description`` etc.; repeated fields as
JSON or Python-repr lists of records). ``iter_gcp_file`` streams a Parquet file in record
batches (bounded memory for multi-million-row exports); JSONL/CSV are read whole.

Money (reference/billing-formats.md §3.2: net cost = ``cost + SUM(credits.amount)``,
credits are negative; that ties to the invoice):
- ``billed_cost = effective_cost = cost + sum(credits.amount)`` (credits folded in);
- ``contracted_cost = cost`` (before credits); ``list_cost = cost_at_list``, or ``cost``
  when the export has no ``cost_at_list`` (older exports, the koku samples).
Billing period = ``invoice.month``; sub account = ``project.id``.
Currency: ``currency`` is the billing currency; ``currency_conversion_rate`` is Google's rate
from US dollars to it (1 USD = rate ``currency``; ``cost / rate`` is the cost in USD), kept as
``x_pricing_exchange_rate`` with ``pricing_currency`` USD (finops.fx converts with it first).
Tags = ``project.labels`` overlaid by the resource ``labels`` (resource wins, FOCUS
"finalized tags"), plus ``system_labels`` (already ``domain/key`` prefixed). GKE cost
allocation: ``goog-k8s-cluster-name`` -> ``x_cluster``, ``k8s-namespace`` -> ``x_namespace``;
``k8s-label/<key>`` pod labels stay in ``tags`` under that key.
``resource_id``: a GCE instance's ``resource.global_name``
(``//compute.googleapis.com/projects/P/zones/Z/instances/ID``) becomes ``gce://P/Z/<resource.name>``,
exactly a GKE node's ``spec.providerID``; the original global name is kept in ``tags``
under ``gcp:resource-global-name``. Other resources keep their global name (else name).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from ingestion.billing.checks import check_required_values
from ingestion.billing.columns import column_index, norm, pick, require_columns
from ingestion.billing.cost_lines import cost_line_frame
from ingestion.billing.reading import BATCH_ROWS, file_format, parquet_batches, read_rows
from ingestion.billing.tags import map_entries, merge_map_entries, parse_tags, typed_records_to_map
from ingestion.billing.values import canonical_resource_id, parse_number, parse_timestamp
from models.errors import CollectorError, InputError

SOURCE = "gcp-billing"
PROVIDER = "Google Cloud"
GLOBAL_NAME_TAG = "gcp:resource-global-name"
REQUIRED = (
    "billing_account_id",
    "cost",
    "currency",
    "usage_start_time",
    "usage_end_time",
    "invoice.month",
)
COST_TYPE = {
    "regular": "Usage",
    "tax": "Tax",
    "adjustment": "Adjustment",
    "rounding_error": "Adjustment",
}
# Top-level export fields the reader uses (BigQuery selects only these).
FIELDS = (
    "billing_account_id",
    "service",
    "sku",
    "usage_start_time",
    "usage_end_time",
    "project",
    "labels",
    "system_labels",
    "location",
    "resource",
    "cost",
    "currency",
    "currency_conversion_rate",
    "usage",
    "credits",
    "invoice",
    "cost_type",
    "cost_at_list",
)


# -- reading --------------------------------------------------------------------------
def flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested records -> dotted columns (``service.description``), like the CSV dumps."""
    while structs := [c for c, t in frame.schema.items() if isinstance(t, pl.Struct)]:
        for column in structs:
            fields = [f.name for f in frame.schema[column].fields]  # type: ignore[attr-defined]
            frame = frame.with_columns(
                pl.col(column).struct.rename_fields([f"{column}.{f}" for f in fields])
            ).unnest(column)
    return frame


def read_gcp_file(path: Path) -> pl.DataFrame:
    """One export file as one frame (the whole file in memory; see ``iter_gcp_file``)."""
    return to_cost_lines(flatten(read_rows(path)), str(path))


def _wanted(name: str) -> bool:
    """A column the mapping reads: a ``FIELDS`` record, or one of its flattened fields."""
    return norm(name.split(".")[0]) in _FIELD_KEYS


_FIELD_KEYS = frozenset(norm(f) for f in FIELDS)


def iter_gcp_file(path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """One export file as cost-line frames of at most ``batch_rows`` rows.

    Parquet is streamed in record batches (only the ``FIELDS`` columns), so memory stays
    bounded by the batch, not the file (a 4.6M-row export); ``_row`` keeps the file's row
    numbers. JSONL and CSV are still read whole (one frame): they are the small exports.
    """
    if file_format(path) != "parquet":
        yield read_gcp_file(path)
        return
    for batch in parquet_batches(path, batch_rows, _wanted):
        yield to_cost_lines(flatten(batch), str(path))


def bigquery_query(table: str, fields: list[str]) -> str:
    """Only the needed columns; partition, usage date and invoice month pushed down."""
    return (
        f"SELECT {', '.join(fields)} FROM `{table}` "
        "WHERE DATE(_PARTITIONTIME) >= @partition_from AND DATE(_PARTITIONTIME) < @partition_to "
        "AND usage_start_time >= TIMESTAMP(@partition_from) AND invoice.month = @invoice_month"
    )


def read_bigquery(client: Any, table: str, month: date, *, lookback_days: int = 35) -> pl.DataFrame:
    """One invoice month of ``table`` (``project.dataset.table``) through ``client``.

    Partitions read: from ``lookback_days`` before the month (late usage invoiced this
    month) to 7 days after it (rows exported after the month closed).
    """
    from google.cloud import bigquery

    start = month.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    try:
        names = {f.name for f in client.get_table(table).schema}
        fields = [f for f in FIELDS if f in names]
        sql = bigquery_query(table, fields)
        first_partition = start - timedelta(days=lookback_days)
        params = [
            bigquery.ScalarQueryParameter("partition_from", "DATE", first_partition),
            bigquery.ScalarQueryParameter("partition_to", "DATE", end + timedelta(days=7)),
            bigquery.ScalarQueryParameter("invoice_month", "STRING", f"{start:%Y%m}"),
        ]
        job = client.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=params))
        arrow = job.result().to_arrow()
    except Exception as exc:  # noqa: BLE001 — any client failure is the collector's error
        raise CollectorError(f"bq://{table}", str(exc)) from None
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    if frame.height == 0:
        raise InputError(f"bq://{table}: no rows for invoice month {start:%Y-%m}")
    return to_cost_lines(flatten(frame.with_row_index("_row", offset=1)), f"bq://{table}")


# -- repeated fields ------------------------------------------------------------------
def _records(text: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = ast.literal_eval(text)  # koku's pandas dump: [{'key': 'a', 'value': None}]
    if not isinstance(value, list):
        raise ValueError("not a list of records")
    return value


def _credit_parts(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    items = items or []
    cud = [i for i in items if str(i.get("type") or "").startswith("COMMITTED_USAGE_DISCOUNT")]
    return {
        "amount": float(sum(float(i.get("amount") or 0) for i in items)),
        "cud": (cud[0].get("id") or cud[0].get("name")) if cud else None,
    }


def credits(frame: pl.DataFrame, column: str | None, source: str) -> pl.DataFrame:
    """Per row: the credit total (``amount``) and a committed-use-discount id (``cud``)."""
    if column is None:
        return pl.DataFrame(
            {"amount": [0.0] * frame.height, "cud": [None] * frame.height},
            schema={"amount": pl.Float64, "cud": pl.String},
        )
    series = frame[column]
    if isinstance(series.dtype, pl.List) and isinstance(series.dtype.inner, pl.Struct):
        return _typed_credits(series)
    if isinstance(series.dtype, pl.List):
        parts = [_credit_parts(v) for v in series.to_list()]
    else:
        parts = []
        for row, text in zip(frame["_row"].to_list(), series.to_list(), strict=True):
            try:
                parts.append(_credit_parts(_records(text) if text else None))
            except (ValueError, SyntaxError, TypeError, AttributeError) as exc:
                raise InputError(
                    f"{source}: row {row}, column {column!r}: not a list of credits ({exc})"
                ) from None
    return pl.DataFrame(parts, schema={"amount": pl.Float64, "cud": pl.String})


def _typed_credits(series: pl.Series) -> pl.DataFrame:
    """``_credit_parts`` for a typed ``List(Struct)`` column, without per-row Python."""
    names = {f.name for f in series.dtype.inner.fields}  # type: ignore[attr-defined]
    field = pl.element().struct.field
    amount = field("amount").cast(pl.Float64).fill_null(0.0).sum() if "amount" in names else None
    amounts = (series.list.eval(amount).list.first().fill_null(0.0) if amount is not None
               else pl.Series([0.0] * series.len()))
    cud = pl.Series([None] * series.len(), dtype=pl.String)
    if "type" in names and names & {"id", "name"}:
        is_cud = field("type").cast(pl.String).str.starts_with("COMMITTED_USAGE_DISCOUNT")
        ident = _id_or_name(names)
        cud = series.list.eval(ident.filter(is_cud.fill_null(False))).list.first()
    return pl.DataFrame({"amount": amounts, "cud": cud},
                        schema={"amount": pl.Float64, "cud": pl.String})


def _id_or_name(names: set[str]) -> pl.Expr:
    """``credit.get("id") or credit.get("name")`` (an empty id falls through to name)."""
    field = pl.element().struct.field
    none = pl.lit(None, dtype=pl.String)
    ident = field("id").cast(pl.String) if "id" in names else none
    name = field("name").cast(pl.String) if "name" in names else none
    return pl.when(ident.is_not_null() & (ident != "")).then(ident).otherwise(name)


def _labels(frame: pl.DataFrame, column: str | None, source: str) -> pl.Series:
    if column is not None and isinstance(frame[column].dtype, pl.List):
        return typed_records_to_map(frame[column])
    return parse_tags(frame, column, source)


def _label(tags: pl.Series, key: str) -> pl.Series:
    """The value of ``key`` in each row's (merged, so key-unique) tags, else null."""
    entry = pl.element().struct
    found = tags.list.eval(entry.field("value").filter(entry.field("key") == key)).list.first()
    return found.cast(pl.String).alias(key)


# -- mapping --------------------------------------------------------------------------
def _text(frame: pl.DataFrame, index: dict[str, str], name: str) -> pl.Series:
    column = pick(index, name)
    if column is None:
        return pl.Series(name, [None] * frame.height, dtype=pl.String)
    return frame[column].cast(pl.String)


def _number(frame: pl.DataFrame, index: dict[str, str], name: str, source: str) -> pl.Series:
    column = pick(index, name)
    if column is None:
        return pl.Series(name, [None] * frame.height, dtype=pl.Float64)
    return parse_number(frame, column, source)


def _invoice_month(frame: pl.DataFrame, column: str, source: str) -> pl.Series:
    text = frame[column].cast(pl.String)
    parsed = (text + "01").str.strptime(pl.Datetime("us"), "%Y%m%d", strict=False)
    bad = frame.filter(text.is_not_null() & parsed.is_null())
    if bad.height:
        raise InputError(
            f"{source}: row {bad['_row'][0]}, column {column!r}: "
            f"{bad[column][0]!r} is not a YYYYMM invoice month"
        )
    return parsed


def _resource_id(frame: pl.DataFrame, index: dict[str, str]) -> tuple[pl.Series, pl.Series]:
    global_name = _text(frame, index, "resource.global_name")
    name = _text(frame, index, "resource.name")
    raw = pl.select(pl.coalesce(global_name, name)).to_series()
    return canonical_resource_id(raw, name), global_name


def _tags(
    frame: pl.DataFrame,
    index: dict[str, str],
    source: str,
    global_name: pl.Series,
    resource_id: pl.Series,
) -> pl.Series:
    project = _labels(frame, pick(index, "project.labels"), source)
    resource = _labels(frame, pick(index, "labels"), source)
    system = _labels(frame, pick(index, "system_labels"), source)
    # keep the global name when resource_id had to be rewritten to the gce:// form
    ids = pl.DataFrame({"value": global_name.cast(pl.String), "r": resource_id.cast(pl.String)})
    g = pl.col("value")
    kept = (ids.with_row_index("_r").filter(g.is_not_null() & (g != "") & g.ne_missing(pl.col("r")))
            .select("_r", pl.lit(GLOBAL_NAME_TAG).alias("key"), "value"))
    parts = [map_entries(m) for m in (project, resource, system)]
    return merge_map_entries([*parts, kept], frame.height)


def _exchange_rate(frame: pl.DataFrame, index: dict[str, str], source: str,
                   ) -> dict[str, pl.Series]:
    """``currency_conversion_rate`` (USD -> the billing currency), when the export has it."""
    rate = _number(frame, index, "currency_conversion_rate", source)
    usd = pl.select(pl.when(rate.is_not_null()).then(pl.lit("USD"))).to_series()
    return {"pricing_currency": usd, "x_pricing_exchange_rate": rate}


def to_cost_lines(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Flattened export rows (with ``_row``) -> COST_LINE-shaped frame."""
    index = column_index(frame.columns)
    require_columns(source, [c for c in REQUIRED if pick(index, c) is None])
    col = {name: pick(index, name) or name for name in REQUIRED}
    cost = parse_number(frame, col["cost"], source)
    credit = credits(frame, pick(index, "credits"), source)
    net = cost + credit["amount"]
    period = _invoice_month(frame, col["invoice.month"], source)
    resource_id, global_name = _resource_id(frame, index)
    tags = _tags(frame, index, source, global_name, resource_id)
    cost_type = _text(frame, index, "cost_type").fill_null("regular")
    list_cost = _number(frame, index, "cost_at_list", source)
    out = cost_line_frame(
        frame,
        {
            "billing_account_id": frame[col["billing_account_id"]].cast(pl.String),
            "sub_account_id": _text(frame, index, "project.id"),
            "sub_account_name": _text(frame, index, "project.name"),
            "provider": PROVIDER,
            "invoice_issuer": PROVIDER,
            "billing_currency": frame[col["currency"]].cast(pl.String),
            **_exchange_rate(frame, index, source),
            "billing_period_start": period,
            "billing_period_end": period.dt.offset_by("1mo"),
            "charge_period_start": parse_timestamp(frame, col["usage_start_time"], source),
            "charge_period_end": parse_timestamp(frame, col["usage_end_time"], source),
            "charge_category": cost_type.replace_strict(COST_TYPE, default="Adjustment"),
            "charge_frequency": pl.select(
                pl.when(cost_type == "regular").then(pl.lit("Usage-Based"))
            ).to_series(),
            "charge_description": _text(frame, index, "sku.description"),
            "service_name": _text(frame, index, "service.description"),
            "region_id": _text(frame, index, "location.region"),
            "availability_zone": _text(frame, index, "location.zone"),
            "resource_id": resource_id,
            "resource_name": _text(frame, index, "resource.name"),
            "sku_id": _text(frame, index, "sku.id"),
            "pricing_quantity": _number(frame, index, "usage.amount_in_pricing_units", source),
            "pricing_unit": _text(frame, index, "usage.pricing_unit"),
            "consumed_quantity": _number(frame, index, "usage.amount", source),
            "consumed_unit": _text(frame, index, "usage.unit"),
            "list_cost": list_cost.fill_null(cost),
            "billed_cost": net,
            "effective_cost": net,
            "contracted_cost": cost,
            "commitment_discount_id": credit["cud"],
            "commitment_discount_status": pl.select(
                pl.when(credit["cud"].is_not_null()).then(pl.lit("Used"))
            ).to_series(),
            "tags": tags,
            "x_cluster": _label(tags, "goog-k8s-cluster-name"),
            "x_namespace": _label(tags, "k8s-namespace"),
            "x_line_item_type": cost_type,
            "x_source_file": source,
        },
    )
    check_required_values(out, source)
    return out
