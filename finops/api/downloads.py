"""The data routes' tables as files: ``format=csv|parquet`` beside the JSON.

Every chart and table of the dashboards is drawn from a data route, and offers that route's
URL with ``format=csv`` or ``format=parquet``: the same query, the same role scoping, the
same rows. Money is written unrounded (the JSON rounds each amount to the cent), so a file's
column sum rounds to the route's total; every row names its currency (ISO 4217).
"""

from __future__ import annotations

import io
import json
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import Query
from fastapi.responses import Response

Format = Literal["json", "csv", "parquet"]
FormatQuery = Annotated[Format, Query(
    description="json (default), or the rows as a file: csv or parquet.")]
MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


def as_file(frame: pl.DataFrame, fmt: Format, name: str, currency: str | None) -> Response:
    """``frame`` as a downloadable CSV or Parquet file, with a ``currency`` column:
    ``currency`` on every row, unless the frame has its own (budgets, each in theirs)."""
    if "currency" not in frame.columns:
        frame = frame.with_columns(pl.lit(currency, dtype=pl.String).alias("currency"))
    buffer = io.BytesIO()
    if fmt == "csv":
        frame.write_csv(buffer, date_format="%Y-%m-%d")
    else:
        frame.write_parquet(buffer)
    filename = f"{name}.{fmt}"
    return Response(buffer.getvalue(), media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def filename(*parts: object) -> str:
    """A file name from ``parts`` (route, window...): letters, digits, ``-`` and ``_`` only."""
    text = "_".join(str(p) for p in parts if p)
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:120] or "finops"


def rows_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """JSON rows as a file's rows: nested values (tags, evidence, root causes) as JSON text."""
    plain = [{k: (json.dumps(v, default=str, sort_keys=True) if isinstance(v, (dict, list))
                  else v) for k, v in row.items()} for row in rows]
    return pl.DataFrame(plain, infer_schema_length=None) if plain else pl.DataFrame()
