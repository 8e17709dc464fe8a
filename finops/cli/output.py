"""Render query results as a table, CSV or JSON (one function for every command)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rich.table import Table

from finops.cli.common import out


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    """Exact text: a DECIMAL prints as 0.00, not as the float 0.0."""
    if value is None:
        return ""
    if isinstance(value, dict | list):  # a struct, map or list cell reads as JSON
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value) if isinstance(value, Decimal) else str(_jsonable(value))


def render(columns: list[str], rows: Sequence[Sequence[Any]], fmt: str) -> None:
    if fmt == "json":
        records = [{c: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        out.print_json(json.dumps(records, default=str))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_text(v) for v in row] for row in rows])
        out.print(buffer.getvalue(), end="", markup=False, highlight=False)
    else:
        table = Table(*columns, show_lines=False)
        for row in rows:
            table.add_row(*(_text(v) for v in row))
        out.print(table)
