"""Result values as JSON, whatever DuckDB returns (encoded in the worker, never in the API).

One rule: a value is JSON-native when JSON carries it exactly for every client (text,
booleans, finite floats, integers within ±2**53); everything else is a string in a stated
format, and the response names each column's DuckDB type so a client knows which:

- ``BLOB`` (also inside lists, structs and maps): standard base64;
- ``DECIMAL``: its exact decimal text (``"0.00"``), never a rounded float: money stays exact;
- integers beyond ±2**53 (``HUGEINT``, ``UBIGINT``): decimal text;
- ``NaN`` and infinities: ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
- dates, times, timestamps: ISO 8601; ``INTERVAL``: an ISO 8601 duration (``P32DT3S``; DuckDB's
  Python client turns a month into 30 days); ``UUID``: its text;
- ``STRUCT`` and ``MAP`` with text keys: objects; a ``MAP`` with other keys: a list of
  ``{"key": …, "value": …}``; ``LIST`` and ``ARRAY``: lists.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

JSON_SAFE_INT = 2**53


def encode(value: Any) -> Any:
    """``value`` as something ``json.dumps`` writes exactly (see the module docstring)."""
    if value is None or isinstance(value, bool | str):
        return value
    for kind, encoder in _ENCODERS:
        if isinstance(value, kind):
            return encoder(value)
    return str(value)


def encode_row(row: tuple[Any, ...] | list[Any]) -> list[Any]:
    return [encode(value) for value in row]


def _int(value: int) -> int | str:
    return value if -JSON_SAFE_INT <= value <= JSON_SAFE_INT else str(value)


def _float(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _decimal(value: Decimal) -> str:
    return format(value, "f") if value.is_finite() else str(value)


def _bytes(value: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _mapping(value: dict[Any, Any]) -> dict[str, Any] | list[dict[str, Any]]:
    if all(isinstance(key, str) for key in value):
        return {key: encode(item) for key, item in value.items()}
    return [{"key": encode(key), "value": encode(item)} for key, item in value.items()]


def _duration(value: timedelta) -> str:
    """ISO 8601: ``P1DT2H3M4.5S``; negative durations carry a leading minus."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = f"{seconds + value.microseconds / 1e6:.6f}".rstrip("0").rstrip(".")
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n)
    clock += f"{fraction}S" if seconds or value.microseconds else ""
    days = f"{value.days}D" if value.days else ""
    return f"{sign}P{days}T{clock}" if clock else f"{sign}P{days or '0D'}"


# Order matters: bool before int (a bool is an int), datetime before date.
_ENCODERS: tuple[tuple[type | tuple[type, ...], Callable[[Any], Any]], ...] = (
    (int, _int),
    (float, _float),
    (Decimal, _decimal),
    ((bytes, bytearray, memoryview), _bytes),
    ((datetime, date, time), lambda v: v.isoformat()),
    (timedelta, _duration),
    (UUID, str),
    (dict, _mapping),
    ((list, tuple), lambda v: [encode(item) for item in v]),
)
