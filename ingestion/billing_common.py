"""Helpers every billing reader shares (FOCUS, Azure, GCP, AWS CUR).

A reader turns one file into a frame with the ``COST_LINE`` columns plus ``_row`` (the
1-based data row of the source file, for error messages), then hands all frames of a run
to ``load_cost_lines``, which replaces each (source, billing account, billing period)
partition atomically. Everything here raises ``InputError`` naming the file and, when
known, the row and column, so a user can fix the input.
"""

from __future__ import annotations

import ast
import functools
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from finops.errors import InputError
from finops.warehouse import IngestRun, Rows, Warehouse, file_checksum, new_run_id
from models.schemas import COST_LINE, MAP, TS

NULLS = ["", "NULL", "null", "None"]
PARTITION_KEYS = ("x_source", "billing_account_id", "billing_period_start")
MONEY = ("list_cost", "billed_cost", "effective_cost", "contracted_cost")
# Source rows that a cost_line cannot exist without (nulls here would also break the
# partition replace: NULL never matches in the DELETE, so a reload would double count).
REQUIRED_VALUES = (
    "billing_account_id",
    "billing_currency",
    "billing_period_start",
    "charge_period_start",
    "billed_cost",
    "effective_cost",
)
_TS_FORMATS = ["%m/%d/%Y", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S UTC", "%Y%m%d"]


# -- names ----------------------------------------------------------------------------
def norm(name: str) -> str:
    """Column name reduced to lower-case letters and digits: ``BilledCost``,
    ``billed_cost``, ``Billed Cost`` and ``\\ufeffBilledCost`` all become ``billedcost``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def column_index(columns: Iterable[str]) -> dict[str, str]:
    """Normalised name -> the file's column name (first one wins)."""
    index: dict[str, str] = {}
    for column in columns:
        index.setdefault(norm(column), column)
    return index


def pick(index: dict[str, str], *aliases: str) -> str | None:
    """The file's column for the first alias present, or None."""
    for alias in aliases:
        found = index.get(norm(alias))
        if found is not None:
            return found
    return None


def require_columns(path: Path | str, missing: Sequence[str]) -> None:
    if missing:
        raise InputError(f"{path}: missing required column(s): {', '.join(missing)}")


# -- reading --------------------------------------------------------------------------
def _decompress(path: Path, data: bytes) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(f"{path}: truncated or corrupt gzip ({exc})") from None


def file_format(path: Path) -> str:
    """``parquet``, ``jsonl`` or ``csv``, from the name (a ``.gz`` suffix is ignored)."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "csv"


def read_rows(path: Path) -> pl.DataFrame:
    """Read a CSV / CSV.gz (all columns as text), Parquet or JSONL file.

    CSV values stay strings so IDs keep their leading zeros; ``NULL``/``null``/empty
    become null; a UTF-8 BOM is dropped; blank lines are skipped. Adds ``_row``.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    fmt = file_format(path)
    try:
        if fmt == "parquet":
            frame = pl.read_parquet(path)
        else:
            data = _decompress(path, path.read_bytes())
            if not data.strip(b"\xef\xbb\xbf \r\n\t"):
                raise InputError(f"{path}: file is empty")
            frame = _read_text(data, fmt)
    except InputError:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read as {fmt}: {exc}") from None
    frame = tidy_rows(frame)
    if frame.height == 0:
        raise InputError(f"{path}: no data rows (only a header)")
    return frame


def tidy_rows(frame: pl.DataFrame, first_row: int = 1) -> pl.DataFrame:
    """Trimmed column names, text nulls as null, ``_row`` added, all-null rows dropped.

    ``first_row`` is the file row number of the frame's first row, so a batch read from
    the middle of a file keeps the file's row numbers in its error messages.
    """
    frame = frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})
    # typed files may still spell null as text ("NULL" in the FOCUS sample's Parquet copy)
    text = [c for c, t in frame.schema.items() if t == pl.String]
    frame = frame.with_columns(pl.when(pl.col(c).is_in(NULLS)).then(None).otherwise(pl.col(c))
                               .alias(c) for c in text)
    frame = frame.with_row_index("_row", offset=first_row).cast({"_row": pl.Int64})
    return frame.filter(~pl.all_horizontal(pl.exclude("_row").is_null()))


def _read_text(data: bytes, fmt: str) -> pl.DataFrame:
    if fmt == "jsonl":
        return pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
    return pl.read_csv(
        io.BytesIO(data),
        infer_schema_length=0,
        null_values=NULLS,
        truncate_ragged_lines=False,
        raise_if_empty=True,
    )


def distinct_files(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Split ``paths`` into distinct files and duplicates (same bytes given twice)."""
    seen: dict[str, Path] = {}
    duplicates: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file")
        digest = file_checksum([path])
        if digest in seen:
            duplicates.append(path)
        else:
            seen[digest] = path
    return list(seen.values()), duplicates


# -- typed values ---------------------------------------------------------------------
def _first_bad(frame: pl.DataFrame, column: str, parsed: pl.Series) -> tuple[Any, Any] | None:
    bad = frame.select("_row", column).filter(frame[column].is_not_null() & parsed.is_null())
    return (bad["_row"][0], bad[column][0]) if bad.height else None


def parse_number(frame: pl.DataFrame, column: str, path: Path | str) -> pl.Series:
    """``column`` as Float64; a value that is not a number is an InputError (row, column)."""
    series = frame[column]
    if series.dtype.is_numeric():
        return series.cast(pl.Float64)
    if series.dtype != pl.String:
        raise InputError(f"{path}: column {column!r} has type {series.dtype}, expected a number")
    parsed = series.str.strip_chars().cast(pl.Float64, strict=False)
    bad = _first_bad(frame, column, parsed)
    if bad:
        raise InputError(f"{path}: row {bad[0]}, column {column!r}: {bad[1]!r} is not a number")
    return parsed


@functools.cache
def _time_parser() -> duckdb.DuckDBPyConnection:
    """One in-memory connection for parsing (opening one costs ~0.2 s), session in UTC."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    return con


def _parse_times(values: list[str]) -> pl.DataFrame:
    con = _time_parser().cursor()
    try:
        values_frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
        con.register("values_frame", values_frame)
        formats = ", ".join(f"'{f}'" for f in _TS_FORMATS)
        return con.sql(
            "SELECT v, timezone('UTC', coalesce(TRY_CAST(v AS TIMESTAMPTZ), "
            f"TRY_CAST(try_strptime(v, [{formats}]) AS TIMESTAMPTZ))) AS t FROM values_frame"
        ).pl()
    finally:
        con.close()


def parse_timestamp(frame: pl.DataFrame, column: str, path: Path | str) -> pl.Series:
    """``column`` as naive UTC ``Datetime("us")``.

    Accepts ISO 8601 with or without ``T``/``Z``/offset, ``MM/DD/YYYY`` (Azure EA) and
    typed Parquet timestamps. Unparseable values are an InputError naming row and column.
    """
    series = frame[column]
    if isinstance(series.dtype, pl.Datetime):
        if series.dtype.time_zone:
            series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return series.cast(TS)
    if series.dtype == pl.Date:
        return series.cast(TS)
    if series.dtype != pl.String:
        raise InputError(f"{path}: column {column!r} has type {series.dtype}, expected a time")
    values = series.drop_nulls().unique().to_list()
    table = _parse_times(values)
    lookup = dict(zip(table["v"].to_list(), table["t"].to_list(), strict=True))
    parsed = series.replace_strict(lookup, default=None, return_dtype=TS)
    bad = _first_bad(frame, column, parsed)
    if bad:
        raise InputError(f"{path}: row {bad[0]}, column {column!r}: {bad[1]!r} is not a timestamp")
    return parsed


# -- tags -----------------------------------------------------------------------------
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


def merge_maps(*maps: pl.Series) -> pl.Series:
    """Key-wise merge of several MAP series; later series win (resource over project)."""
    rows: list[list[dict[str, str | None]]] = []
    for entries in zip(*(m.to_list() for m in maps), strict=True):
        merged: dict[str, str | None] = {}
        for items in entries:
            merged.update({i["key"]: i["value"] for i in items or []})
        rows.append([{"key": k, "value": v} for k, v in merged.items()])
    return pl.Series("tags", rows, dtype=MAP)


# -- vectorised MAP helpers (typed list-of-struct columns, no per-row Python) ----------
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


def merge_map_columns(*maps: pl.Series) -> pl.Series:
    """Vectorised ``merge_maps``: keys in first-seen order, the last series' value wins."""
    return merge_map_entries([map_entries(m) for m in maps], maps[0].len())


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

# -- checks ---------------------------------------------------------------------------
def check_required_values(
    frame: pl.DataFrame, path: Path | str, columns: Sequence[str] = REQUIRED_VALUES
) -> None:
    """Every row must carry the columns a cost line cannot live without."""
    for column in columns:
        nulls = frame.filter(pl.col(column).is_null())
        if nulls.height:
            raise InputError(
                f"{path}: row {nulls['_row'][0]}: {column} is empty "
                f"({nulls.height} row(s) without it)"
            )


def check_currency_mix(frames: Sequence[pl.DataFrame]) -> None:
    """One billing account and period must be billed in one currency (``StreamChecks``'
    check over all the frames)."""
    checks = StreamChecks()
    for frame in frames:
        if frame.height:
            checks.check(frame)


class StreamChecks:
    """``check_currency_mix`` and the run window for frames that stream past one by one.

    Remembers the first currency of every (billing account, billing period) seen so far, so
    a mix is caught across batches and files without holding them; widens ``run``'s window
    as billing periods arrive (the run row is written after the last batch).
    """

    def __init__(self, run: IngestRun | None = None) -> None:
        self.run = run
        self.currency: dict[tuple[Any, Any], tuple[str, str]] = {}

    def __call__(self, frames: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        for frame in frames:
            if frame.height:
                self.check(frame)
                self.widen(frame)
            yield frame

    def check(self, frame: pl.DataFrame) -> None:
        row = pl.col("_row").min() if "_row" in frame.columns else pl.lit(None)
        groups = (
            frame.group_by("billing_account_id", "billing_period_start", "billing_currency")
            .agg(row.alias("row"), pl.col("x_source_file").first().alias("file"))
            .sort("row", nulls_last=True)
        )
        for account, period, currency, first, file in groups.iter_rows():
            seen, seen_file = self.currency.setdefault((account, period), (currency, file))
            if seen != currency:
                at = f", row {first}" if first is not None else ""
                files = ", ".join(sorted({seen_file, file}))
                raise InputError(
                    f"{files}: billing account {account} period {period:%Y-%m} mixes "
                    f"currencies {sorted([seen, currency])} (column billing currency{at})"
                )

    def widen(self, frame: pl.DataFrame) -> None:
        if self.run is None:
            return
        run = self.run
        start, end = _window([frame])
        if start is not None:
            run.window_start = min(run.window_start or start, start)
        if end is not None:
            run.window_end = max(run.window_end or end, end)


# -- loading --------------------------------------------------------------------------
def finish(frame: pl.DataFrame, columns: dict[str, Any]) -> pl.DataFrame:
    """The COST_LINE-shaped frame (plus ``_row``) from series (one value per row of
    ``frame``) or scalars; absent columns become null, every column gets its table type."""
    values = [
        v.alias(k) if isinstance(v, pl.Series) else pl.lit(v).alias(k) for k, v in columns.items()
    ]
    out = frame.select("_row").with_columns(values)
    missing = [
        pl.lit(None, d).alias(n) for n, d in COST_LINE.schema.items() if n not in out.columns
    ]
    out = out.with_columns(missing).select(["_row", *COST_LINE.columns])
    return out.cast(dict(COST_LINE.schema))  # type: ignore[arg-type]


def _window(frames: Sequence[pl.DataFrame]) -> tuple[datetime | None, datetime | None]:
    if not frames:
        return None, None
    starts = [f["billing_period_start"].min() for f in frames if f.height]
    ends = [f["billing_period_end"].drop_nulls().max() for f in frames if f.height]
    start = min((s for s in starts if s is not None), default=None)
    end = max((e for e in ends if e is not None), default=None)
    return start, end  # type: ignore[return-value]


def _stamp(frame: pl.DataFrame, source: str, run_id: str) -> pl.DataFrame:
    frame = frame.drop("_row", strict=False)
    return frame.with_columns(
        pl.lit(source).alias("x_source"), pl.lit(run_id).alias("x_ingest_run")
    )


def load_cost_lines(
    warehouse: Warehouse,
    source: str,
    frames_or_sql: pl.DataFrame | Sequence[pl.DataFrame] | Iterator[pl.DataFrame] | str,
    files: Sequence[Path | str],
    *,
    window: tuple[datetime | None, datetime | None] | None = None,
) -> IngestRun:
    """Replace the (x_source, billing_account_id, billing_period_start) partitions the new
    rows touch with those rows, in one transaction, and record an ``ingest_runs`` row.

    ``frames_or_sql`` is a COST_LINE-shaped frame, a list of them (checked for a currency
    mix, window = billing periods covered), an iterator of frames (streamed: each batch is
    checked as it arrives, the currency mix across all of them, window = the periods seen,
    unless ``window`` is given), or a DuckDB SELECT over files (columns named like
    ``cost_line``; pass ``window``). ``x_source`` and ``x_ingest_run`` are set here;
    ``_row`` is dropped. Local paths in ``files`` are checksummed. A failure leaves the
    old rows in place.
    """
    run_id = new_run_id(source)
    local = [Path(f) for f in files if Path(f).exists()]
    run = IngestRun(
        run_id,
        source,
        None,
        None,
        [str(f) for f in files],
        checksum=file_checksum(local) if local else None,
    )
    rows: Rows
    if isinstance(frames_or_sql, str):
        rows = (
            f"SELECT * REPLACE ('{source}' AS x_source, '{run_id}' AS x_ingest_run) "
            f"FROM ({frames_or_sql})"
        )
    elif isinstance(frames_or_sql, pl.DataFrame | list | tuple):
        frames = [frames_or_sql] if isinstance(frames_or_sql, pl.DataFrame) else list(frames_or_sql)
        try:
            check_currency_mix(frames)
        except InputError as exc:
            warehouse.record_failure(run, str(exc))
            raise
        window = window or _window(frames)
        rows = [_stamp(f, source, run_id) for f in frames]
    else:
        # streamed: checked batch by batch inside the load (a failure rolls it back)
        checks = StreamChecks(run if window is None else None)
        stream = (_stamp(f, source, run_id) for f in checks(frames_or_sql))
        if window is not None:
            run.window_start, run.window_end = window
        return warehouse.load_staged(run, COST_LINE, stream, PARTITION_KEYS, memory_limit="1GB")
    run.window_start, run.window_end = window or (None, None)
    return warehouse.load_staged(run, COST_LINE, rows, PARTITION_KEYS)


def record_failed(
    warehouse: Warehouse, source: str, files: Sequence[Path | str], error: Exception
) -> None:
    """Record a run that failed while reading (before anything was loaded)."""
    run = IngestRun(new_run_id(source), source, None, None, [str(f) for f in files])
    warehouse.record_failure(run, str(error))


# -- normalised values ----------------------------------------------------------------
_ENUMS = {
    "charge_category": ("Usage", "Purchase", "Tax", "Credit", "Adjustment"),
    "charge_frequency": ("One-Time", "Recurring", "Usage-Based"),
    "commitment_discount_status": ("Used", "Unused"),
    "charge_class": ("Correction",),
}
_GCE_INSTANCE = r"^//compute\.googleapis\.com/projects/([^/]+)/zones/([^/]+)/instances/([^/]+)$"


def canonical_enum(series: pl.Series, column: str) -> pl.Series:
    """Spec spelling for case variants (the FOCUS 1.0 sample has ``Usage-based``)."""
    lookup = {v.lower(): v for v in _ENUMS[column]}
    return series.map_elements(lambda v: lookup.get(v.lower(), v), return_dtype=pl.String)


def canonical_resource_id(resource_id: pl.Series, resource_name: pl.Series) -> pl.Series:
    """The form the allocation engine matches against node provider IDs.

    - Azure ARM ids (``/subscriptions/…``, ``/providers/…``) are case-insensitive and
      exports mix cases: lower-cased.
    - A GCE instance's global name ``//compute.googleapis.com/projects/P/zones/Z/instances/N``
      becomes ``gce://P/Z/<resource name>`` (a node's ``spec.providerID``); without a
      resource name the last path element is used.
    - Anything else (AWS ARNs/ids, other GCP global names) is kept as delivered.
    """
    frame = pl.DataFrame({"id": resource_id.cast(pl.String), "name": resource_name.cast(pl.String)})
    rid = pl.col("id")
    gce = pl.concat_str([pl.lit("gce://"), rid.str.extract(_GCE_INSTANCE, 1), pl.lit("/"),
                         rid.str.extract(_GCE_INSTANCE, 2), pl.lit("/"),
                         pl.coalesce(pl.col("name"), rid.str.extract(_GCE_INSTANCE, 3))])
    arm = rid.str.starts_with("/subscriptions/") | rid.str.starts_with("/providers/")
    return frame.select(
        pl.when(rid.str.contains(_GCE_INSTANCE)).then(gce)
        .when(arm).then(rid.str.to_lowercase())
        .otherwise(rid).alias("resource_id")
    )["resource_id"]
