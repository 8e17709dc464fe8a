"""Cost lines, finished and loaded: ``cost_line_frame`` gives a reader's columns the
``cost_line`` shape; ``stamp`` marks them with their source and run; ``cost_lines_load`` and
``streamed_cost_lines_load`` make the plain load that replaces the (source, billing account,
billing period) partitions the lines hold, whatever was there (for readers' tests and tools:
the ``ingest`` commands load deliveries instead, ``finops.pipeline.deliveries``, which replace
a period only when that is proven or asked for)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from ingestion.billing.checks import StreamChecks, check_currency_mix, periods
from models.loads import IngestRun, Load, Replace, file_checksum
from models.schemas import COST_LINE

PARTITION_KEYS = ("x_source", "billing_account_id", "billing_period_start")
STREAM_MEMORY = "1GB"  # DuckDB's limit while a stream loads: its batches are built in Polars


def cost_line_frame(frame: pl.DataFrame, columns: dict[str, Any]) -> pl.DataFrame:
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


def cost_lines_load(source: str, frames: Sequence[pl.DataFrame],
                    files: Sequence[Path | str]) -> Load:
    """Frames read whole (every file of a run, checked together for a currency mix); the
    run's window is the billing periods they cover. Local ``files`` are checksummed."""
    check_currency_mix(frames)
    run = _run(source, files, *periods(frames))
    rows = [stamp(frame, source, run.run_id) for frame in frames]
    return Load(run, [Replace(COST_LINE, rows, keys=PARTITION_KEYS)])


def streamed_cost_lines_load(source: str, batches: Iterable[pl.DataFrame],
                             files: Sequence[Path | str]) -> Load:
    """Batches that stream into the load (a multi-million-row export never sits in memory
    whole): each is checked as it arrives, the currency mix across all of them, and a bad one
    fails the whole load; the run's window widens as billing periods go by."""
    run = _run(source, files, None, None)
    checks = StreamChecks(run)
    stream = (stamp(frame, source, run.run_id) for frame in checks(batches))
    return Load(run, [Replace(COST_LINE, stream, keys=PARTITION_KEYS)],
                memory_limit=STREAM_MEMORY)


def _run(source: str, files: Sequence[Path | str], start: datetime | None,
         end: datetime | None) -> IngestRun:
    local = [Path(f) for f in files if Path(f).exists()]
    return IngestRun.begin(source, files, start, end,
                           checksum=file_checksum(local) if local else None)


def stamp(frame: pl.DataFrame, source: str, run_id: str) -> pl.DataFrame:
    """Cost lines as loaded: ``_row`` dropped, source and run stamped on every line."""
    frame = frame.drop("_row", strict=False)
    return frame.with_columns(
        pl.lit(source).alias("x_source"), pl.lit(run_id).alias("x_ingest_run")
    )
