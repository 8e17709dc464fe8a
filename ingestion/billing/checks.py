"""Checks a bill must pass before it is loaded: the values a cost line cannot live without,
and one currency per (billing account, billing period), also across files and batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from models.errors import InputError
from models.loads import IngestRun

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
        start, end = periods([frame])
        if start is not None:
            run.window_start = min(run.window_start or start, start)
        if end is not None:
            run.window_end = max(run.window_end or end, end)


def periods(frames: Sequence[pl.DataFrame]) -> tuple[datetime | None, datetime | None]:
    if not frames:
        return None, None
    starts = [f["billing_period_start"].min() for f in frames if f.height]
    ends = [f["billing_period_end"].drop_nulls().max() for f in frames if f.height]
    start = min((s for s in starts if s is not None), default=None)
    end = max((e for e in ends if e is not None), default=None)
    return start, end  # type: ignore[return-value]
