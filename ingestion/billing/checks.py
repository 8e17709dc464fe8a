"""Checks a bill must pass before it is loaded: the values a cost line cannot live without,
and one currency per (billing account, billing period), also across files and batches; and
the tally of what a delivery holds (lines and totals per billing period and file)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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


@dataclass
class Totals:
    """Lines and money of some cost lines (one file's lines of one billing period)."""

    lines: int = 0
    billed: float = 0.0
    effective: float = 0.0

    def add(self, other: Totals) -> Totals:
        return Totals(self.lines + other.lines, self.billed + other.billed,
                      self.effective + other.effective)


Period = tuple[str, datetime]  # (billing account, billing period start)


class StreamChecks:
    """``check_currency_mix``, the run window and the tally, for frames that stream past one
    by one.

    Remembers the first currency of every (billing account, billing period) seen so far, so
    a mix is caught across batches and files without holding them; widens ``run``'s window
    as billing periods arrive (the run row is written after the last batch); adds up lines
    and totals per billing period and ``x_source_file`` in ``tally`` (what a delivery holds,
    known before it is loaded).
    """

    def __init__(self, run: IngestRun | None = None) -> None:
        self.run = run
        self.currency: dict[tuple[Any, Any], tuple[str, str]] = {}
        self.tally: dict[Period, dict[str, Totals]] = {}

    def __call__(self, frames: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        for frame in frames:
            if frame.height:
                self.check(frame)
                self.widen(frame)
                self.count(frame)
            yield frame

    def count(self, frame: pl.DataFrame) -> None:
        groups = frame.group_by("billing_account_id", "billing_period_start",
                                "x_source_file").agg(
            pl.len().alias("n"), pl.col("billed_cost").sum(), pl.col("effective_cost").sum())
        for account, period, file, lines, billed, effective in groups.iter_rows():
            files = self.tally.setdefault((account, period), {})
            files[file] = files.get(file, Totals()).add(Totals(lines, billed, effective))

    def currency_of(self, period: Period) -> str | None:
        seen = self.currency.get(period)
        return seen[0] if seen else None

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
