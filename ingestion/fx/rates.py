"""A CSV of exchange rates -> ``fx_rate`` (``finops fx load FILE``).

Columns (header names case-insensitive, any order, nothing else): ``date``, ``from``, ``to``,
``rate``. ``date`` is a month (``2026-10``: the rate of that calendar month) or a day
(``2026-10-02``); ``from`` and ``to`` are ISO 4217 codes; ``rate`` is a positive number:
1 ``from`` = ``rate`` ``to`` (``2026-10,JPY,USD,0.0067``: one yen is 0.0067 dollars). Every
row is checked, and the first bad one fails the whole file, named by file, row and column;
nothing is loaded then. A load replaces the rates of the same (from, to, period) loaded
before, so a corrected file is loaded again as it is.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from models.currency import check_currency
from models.errors import InputError
from models.loads import IngestRun, Load, Replace, file_checksum
from models.schemas import FX_RATE

SOURCE = "fx-rates"
COLUMNS = ("date", "from", "to", "rate")


def read_rates(path: Path) -> pl.DataFrame:
    """The rows of ``path`` as ``fx_rate`` rows (source ``file:<name>``)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = _header(path, reader.fieldnames)
            rows = [_row(path, number, {k: record[header[k]] for k in COLUMNS})
                    for number, record in enumerate(reader, start=1)]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read as CSV: {exc}") from None
    if not rows:
        raise InputError(f"{path}: no rates (a header and at least one row: "
                         f"{','.join(COLUMNS)})")
    frame = pl.DataFrame(rows, schema=dict(FX_RATE.schema))
    _no_repeats(path, frame)
    return frame.with_columns(pl.lit(f"file:{path.name}").alias("source"))


def _header(path: Path, names: Sequence[str] | None) -> dict[str, str]:
    found = {name.strip().lower(): name for name in names or []}
    missing = [c for c in COLUMNS if c not in found]
    extra = [name for key, name in found.items() if key not in COLUMNS]
    if missing or extra:
        raise InputError(f"{path}: header must be {','.join(COLUMNS)}"
                         + (f"; missing: {', '.join(missing)}" if missing else "")
                         + (f"; unknown: {', '.join(extra)}" if extra else ""))
    return {c: found[c] for c in COLUMNS}


def _row(path: Path, number: int, values: dict[str, str | None]) -> dict[str, object]:
    def bad(column: str, why: str) -> InputError:
        return InputError(f"{path}: row {number}, column {column!r}: "
                          f"{(values[column] or '')!r} {why}")

    currencies = {}
    for column in ("from", "to"):
        try:
            currencies[column] = check_currency(values[column] or "")
        except ValueError:
            raise bad(column, "is not an ISO 4217 currency code (e.g. USD, EUR, JPY)") from None
    if currencies["from"] == currencies["to"]:
        raise bad("to", "is the same currency as `from`")
    first, following = _period(values["date"] or "", lambda why: bad("date", why))
    return {"from_currency": currencies["from"], "to_currency": currencies["to"],
            "valid_from": first, "valid_to": following, "rate": _rate(values["rate"], bad)}


def _period(text: str, bad: Callable[[str], InputError]) -> tuple[date, date]:
    """(first day, first day after) of a month ``YYYY-MM`` or a day ``YYYY-MM-DD``."""
    text = text.strip()
    try:
        if len(text) == 7:
            first = date.fromisoformat(f"{text}-01")
            return first, (first + timedelta(days=32)).replace(day=1)
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or len(text) != 10:
        raise bad("is not a month (2026-10) or a day (2026-10-02)")
    return day, day + timedelta(days=1)


def _rate(text: str | None, bad: Callable[[str, str], InputError]) -> float:
    try:
        rate = float((text or "").strip())
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate <= 0:
        raise bad("rate", "is not a positive number")
    return rate


def _no_repeats(path: Path, frame: pl.DataFrame) -> None:
    """One rate per (from, to, period) in a file: two would leave it to chance which wins."""
    keys = list(FX_RATE.grain)
    rows = frame.with_row_index("row", offset=1)
    twice = rows.filter(pl.len().over(keys) > 1)
    if twice.height:
        first, second = twice.head(2).iter_rows(named=True)
        raise InputError(f"{path}: rows {first['row']} and {second['row']} both give the rate "
                         f"from {first['from_currency']} to {first['to_currency']} from "
                         f"{first['valid_from']} to {first['valid_to']}")


def rates_load(path: Path) -> Load:
    """The load of ``finops fx load``: the file's rates replace the same (pair, period)."""
    frame = read_rates(path)
    run = IngestRun.begin(SOURCE, [path], checksum=file_checksum([path]))
    return Load(run, [Replace(FX_RATE, frame.with_columns(
        pl.lit(run.run_id).alias("x_ingest_run")), keys=FX_RATE.grain)])
