"""Deterministic randomness: a seeded ``random.Random`` for the model, and a vectorised
SplitMix64 hash for per-row noise (so hourly rows never need a Python loop).

SplitMix64 is written with plain UInt64 arithmetic (wrapping multiply, floor division as
right shift), so its output depends only on the inputs and the seed, not on the Polars
version's internal hash function.
"""

from __future__ import annotations

import random
import uuid

import polars as pl

_U64 = pl.UInt64
_MASK = (1 << 64) - 1


def _lit(value: int) -> pl.Expr:
    return pl.lit(value & _MASK, dtype=_U64)


def with_uniform(frame: pl.DataFrame, name: str, seed: int, *keys: str) -> pl.DataFrame:
    """Add column ``name``: a uniform [0, 1) value per row from integer key columns.

    Each mixing step is materialised as a column: written as one nested expression, the
    repeated use of ``z`` would grow the expression tree exponentially.
    """
    z = "_z"
    out = frame.with_columns(_lit(seed * 0x9E3779B97F4A7C15).alias(z))
    for i, key in enumerate(keys):
        out = out.with_columns(
            (pl.col(z) + (pl.col(key).cast(_U64) + _lit(i + 1)) * _lit(0xD1B54A32D192ED03))
            .alias(z))
        for shift, mult in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
            out = out.with_columns((pl.col(z).xor(pl.col(z) // _lit(1 << shift)) * _lit(mult))
                                   .alias(z))
        out = out.with_columns(pl.col(z).xor(pl.col(z) // _lit(1 << 31)).alias(z))
    value = (pl.col(z) // _lit(1 << 11)).cast(pl.Float64) / float(1 << 53)
    return out.with_columns(value.alias(name)).drop(z)


def rng(seed: int, stream: str) -> random.Random:
    """An independent generator per named stream, so adding draws to one leaves others alone."""
    return random.Random(f"{seed}:{stream}")


def uid(r: random.Random) -> str:
    return str(uuid.UUID(int=r.getrandbits(128), version=4))


def hexid(r: random.Random, digits: int) -> str:
    return f"{r.getrandbits(4 * digits):0{digits}x}"
