"""Tags as the warehouse's ``MAP`` (a list of key/value structs): parsed from JSON text,
brace-less Azure tags, key/value records, or typed list-of-struct columns; merged key-wise
across several maps (GCP project, resource and system labels)."""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from models.errors import InputError
from models.schemas import MAP


def _tag_value(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)  # true -> "true", 3 -> "3", nested -> JSON text


def _tag_entries(text: str) -> list[dict[str, str | None]]:
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):  # key/value records (GCP labels dumped as JSON or Python repr)
        try:
            records = json.loads(text)
        except json.JSONDecodeError:
            records = ast.literal_eval(text)
        return [{"key": str(r["key"]), "value": _tag_value(r.get("value"))} for r in records]
    if not text.startswith("{"):  # Azure actual/amortized exports drop the outer braces
        text = "{" + text + "}"
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise ValueError("not a JSON object")
    return [{"key": str(k), "value": _tag_value(v)} for k, v in parsed.items()]


def parse_tags(frame: pl.DataFrame, column: str | None, path: Path | str) -> pl.Series:
    """Tags as the ``MAP`` type (list of key/value structs).

    Accepts JSON objects, brace-less Azure tags (``"a": "1","b": "2"``), lists of
    key/value records, and already-typed list-of-struct columns (Parquet/JSONL).
    """
    if column is None:
        return pl.Series("tags", [None] * frame.height, dtype=MAP)
    series = frame[column]
    if isinstance(series.dtype, pl.List):
        return records_to_map(series)
    lookup: dict[str, list[dict[str, str | None]]] = {}
    for text in series.drop_nulls().unique().to_list():
        try:
            lookup[text] = _tag_entries(text)
        except (ValueError, SyntaxError, KeyError, TypeError) as exc:
            row = frame.filter(series == text)["_row"][0]
            raise InputError(
                f"{path}: row {row}, column {column!r}: tags are not a JSON object ({exc})"
            ) from None
    return series.replace_strict(lookup, default=None, return_dtype=MAP).alias("tags")


def records_to_map(series: pl.Series) -> pl.Series:
    """A typed list of {key, value, ...} structs -> ``MAP`` (values stringified)."""

    def convert(items: list[dict[str, Any]] | None) -> list[dict[str, str | None]]:
        return [{"key": str(i["key"]), "value": _tag_value(i.get("value"))} for i in items or []]

    return pl.Series("tags", [convert(v) for v in series.to_list()], dtype=MAP)


def _map_value(value: pl.Expr, dtype: Any) -> pl.Expr:
    """``_tag_value`` for a whole column: strings kept, scalars as JSON text."""
    if dtype == pl.String:
        return value
    if dtype == pl.Null:
        return value.cast(pl.String)
    if dtype.is_numeric() or dtype == pl.Boolean:
        return value.cast(pl.String)  # Polars spells these like json.dumps (true, 3, 1.5)
    return value.map_elements(_tag_value, return_dtype=pl.String)  # nested: rare, JSON text


def typed_records_to_map(series: pl.Series) -> pl.Series:
    """Vectorised ``records_to_map``: a ``List(Struct(key, value, ...))`` -> ``MAP``."""
    inner = series.dtype.inner  # type: ignore[attr-defined]
    if not isinstance(inner, pl.Struct) or "key" not in {f.name for f in inner.fields}:
        return records_to_map(series)
    types = {f.name: f.dtype for f in inner.fields}
    key = pl.element().struct.field("key").cast(pl.String).fill_null("None")
    value = (_map_value(pl.element().struct.field("value"), types["value"])
             if "value" in types else pl.lit(None, dtype=pl.String))
    entries = series.list.eval(pl.struct(key.alias("key"), value.alias("value")))
    return pl.select(entries.fill_null(pl.lit([], dtype=MAP)).cast(MAP)).to_series().alias("tags")


def map_entries(series: pl.Series) -> pl.DataFrame:
    """A MAP series in long form: one ``(_r, key, value)`` row per entry, ``_r`` = row."""
    return (
        pl.DataFrame({"tags": series.cast(MAP)}).with_row_index("_r")
        .explode("tags", empty_as_null=True).filter(pl.col("tags").is_not_null())
        .unnest("tags")
    )


def merge_map_entries(parts: Sequence[pl.DataFrame], height: int) -> pl.Series:
    """Long-form MAP parts (``map_entries``) merged key-wise, later parts winning, back
    into a MAP series of ``height`` rows (``concat_list`` of struct lists is slow)."""
    # stable sort: within a row, entries keep part order, then list order
    frames = [p.select(pl.col("_r").cast(pl.UInt32), "key", "value") for p in parts]
    long = pl.concat(frames).sort("_r", maintain_order=True)
    if long.select(pl.struct("_r", "key").n_unique()).item() != long.height:
        long = _last_value_per_key(long)
    bounds = pl.arange(0, height + 1, dtype=pl.UInt32, eager=True)
    offsets = long["_r"].search_sorted(bounds, side="left").cast(pl.Int32).rechunk().to_arrow()
    values = long.select(pl.struct("key", "value").alias("entry"))["entry"].rechunk().to_arrow()
    lists = pl.from_arrow(pa.ListArray.from_arrays(offsets, values))
    assert isinstance(lists, pl.Series)
    return lists.cast(MAP).alias("tags")


def _last_value_per_key(long: pl.DataFrame) -> pl.DataFrame:
    """One entry per (row, key), at the key's first position, with its last value."""
    long = long.with_row_index("_pos")
    dedup = long.group_by("_r", "key").agg(pl.col("_pos").first(), pl.col("value").last())
    return dedup.sort("_r", "_pos").select("_r", "key", "value")
