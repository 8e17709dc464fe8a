"""Read the published snapshot for API routes and dashboards.

Routes share the SQL sandbox's read-only connection: DuckDB refuses to open one file twice in
a process with different configurations, and the sandbox already reopens the snapshot when the
writer republishes it (mtime changes). Each read takes its own cursor, so concurrent requests
do not share a result set. Values are always bound, never formatted into SQL.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from finops.sandbox import Sandbox
from models.api import Window
from models.errors import InputError, WarehouseError

DEFAULT_DAYS = 30


class Reader:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.sandbox.connection().cursor()

    def frame(self, sql: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        cursor = self.cursor()
        try:
            return cursor.sql(sql, params=params or {}).pl()
        except duckdb.Error as exc:
            raise WarehouseError(f"query on the published warehouse failed: {exc}") from None
        finally:
            cursor.close()

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        frame = self.frame(sql, params)
        return frame.item(0, 0) if frame.height else None

    def has_view(self, name: str) -> bool:
        found = self.scalar(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = $name AND NOT internal",
            {"name": name},
        )
        return bool(found)

    def data_range(self) -> tuple[date, date] | None:
        """First and last day that have been allocated."""
        frame = self.frame("SELECT min(day), max(day) FROM allocation")
        first, last = frame.row(0)
        return (first, last) if isinstance(first, date) and isinstance(last, date) else None

    def data_through(self) -> date | None:
        """The last day that has been allocated (dashboards label charts with it)."""
        found = self.data_range()
        return found[1] if found else None

    def window(self, start: date | None, end: date | None, days: int = DEFAULT_DAYS) -> Window:
        """The requested window. By default it ends on the last day with data and covers at
        least the last ``days`` days and the whole month of ``end`` (month to date, as budgets
        count it), but starts no earlier than the first day with data."""
        found = self.data_range()
        end = end or (found[1] if found else date.today())
        if start is None:
            start = min(end - timedelta(days=days - 1), end.replace(day=1))
            if found and start < found[0] <= end:
                start = found[0]
        if start > end:
            raise InputError(f"start {start} is after end {end}")
        return Window(start=start, end=end)

    def snapshot_age_s(self) -> float | None:
        path = self.sandbox.snapshot
        return time.time() - path.stat().st_mtime if path.exists() else None
