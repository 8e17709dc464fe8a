"""Allocation rows: their shape and the small expressions every engine step shares.

Every step returns *rows*: frames with the ``ROW`` columns (the allocation schema without
``run_id``). Money is carried as three columns that are always scaled together, so a split of
a bill line conserves billed, effective and list cost at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

from finops.allocation.inputs import MONEY
from models.schemas import ALLOCATION, CURRENCY_COLUMNS

# The engine is currency-agnostic: its rows are in each billing account's own currency and
# carry no currency columns (the pipeline adds those after it, ``finops.pipeline.currency``).
ENGINE_SCHEMA = pl.Schema({n: t for n, t in ALLOCATION.schema.items()
                           if n not in CURRENCY_COLUMNS})
ROW_SCHEMA = pl.Schema({n: t for n, t in ENGINE_SCHEMA.items() if n != "run_id"})
ROW_COLUMNS = list(ROW_SCHEMA.names())
KEYS = [c for c in ROW_COLUMNS if c not in MONEY]  # everything that identifies a row
BILLED_SOURCES = ("bill", "split-bill")


def empty_rows() -> pl.DataFrame:
    return pl.DataFrame(schema=ROW_SCHEMA)


def as_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Project onto ROW columns (absent ones become nulls), in order, with the right types."""
    cols = [pl.col(n).cast(t) if n in frame.columns else pl.lit(None, t).alias(n)
            for n, t in ROW_SCHEMA.items()]
    return frame.select(cols)


def concat_rows(parts: Iterable[pl.DataFrame]) -> pl.DataFrame:
    frames = [as_rows(p) for p in parts if p.height]
    return pl.concat(frames) if frames else empty_rows()


# Money below this is float noise of splitting (an idle remainder of 1e-17 in one run and 0 in
# another, by summation order); rows that carry no more than that are dropped, so the same
# inputs give the same rows however they are partitioned.
NOISE = 1e-9


def collapse(rows: pl.DataFrame) -> pl.DataFrame:
    """Sum money over identical keys (the output grain), dropping rows that are all zero.
    Grouped on one 64-bit hash of the keys (2.5x cheaper than grouping on ~17 columns, most
    of them strings; two of a day's ~150,000 rows colliding: about 1e-9)."""
    if not rows.height:
        return empty_rows()
    hashed = rows.with_columns(pl.struct(KEYS).hash().alias("_kh"))
    summed = hashed.group_by("_kh").agg(*[pl.col(k).first() for k in KEYS],
                                        *[pl.col(m).sum() for m in MONEY])
    nonzero = pl.any_horizontal([pl.col(m).abs() >= NOISE for m in MONEY])
    return as_rows(summed.filter(nonzero))


def scaled(share: pl.Expr) -> list[pl.Expr]:
    """Money columns multiplied by ``share`` (a fraction of the row's money)."""
    return [(pl.col(m) * share).alias(m) for m in MONEY]


def glob_regex(patterns: Iterable[str]) -> str:
    """Shell globs (``payments-*``) as one anchored regex the Rust engine accepts."""
    parts = [re.escape(p).replace(r"\*", ".*").replace(r"\?", ".") for p in patterns]
    return "^(?:" + "|".join(parts) + ")$"


def map_value(column: str, keys: Iterable[str]) -> pl.Expr:
    """The value of the first of ``keys`` present in a label/tag map (keys case-insensitive)."""
    exprs = [
        pl.col(column).list.eval(
            pl.element().filter(pl.element().struct.field("key").str.to_lowercase() == k.lower())
            .struct.field("value")
        ).list.first()
        for k in keys
    ]
    if not exprs:
        return pl.lit(None, pl.String)
    return pl.coalesce(exprs).str.strip_chars().replace("", None)


def with_map_values(frame: pl.DataFrame, keys: list[str], columns: dict[str, str],
                    ) -> pl.DataFrame:
    """``map_value`` of each map column (``{column: alias}``), computed once per distinct
    combination of maps (maps repeat across hours) and joined back on its hash."""
    if not frame.height:
        return frame.with_columns(pl.lit(None, pl.String).alias(a) for a in columns.values())
    hashed = frame.with_columns(pl.struct(*columns).hash().alias("_mh"))
    distinct = hashed.select("_mh", *columns).unique(subset="_mh").select(
        "_mh", *[map_value(column, keys).alias(alias) for column, alias in columns.items()])
    return hashed.join(distinct, on="_mh", how="left").drop("_mh")
