"""Read one snapshot generation for an API request or a dashboard page.

A ``SnapshotReader`` is made per request on the generation the request leased
(``deps._reader``), so every query of one request sees the same published snapshot, however
often the writer republishes meanwhile. Each read takes its own cursor. Values are always
bound, never formatted into SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from finops.api.snapshots import Generation
from finops.rollups import MONEY, ROLLUPS
from models.api import Window
from models.errors import InputError, WarehouseError

DEFAULT_DAYS = 30


class SnapshotReader:
    """Reads of one request on one published snapshot generation (not the writer's file)."""

    def __init__(self, generation: Generation, *, max_window_days: int = 1096) -> None:
        self.generation = generation
        self.max_window_days = max_window_days

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.generation.cursor()

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
        return self.generation.fact(("view", name), lambda: bool(self.scalar(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = $name AND NOT internal",
            {"name": name})))

    def columns(self, table: str) -> frozenset[str]:
        """The columns of a table of this snapshot (none when it has no such table: a
        snapshot published before the table existed)."""
        return self.generation.fact(("columns", table), lambda: frozenset(self.frame(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = $table "
            "AND schema_name = 'main'", {"table": table})["column_name"].to_list()))

    def source(self, needed: Iterable[str] = ()) -> str:
        """The table a query over the ``needed`` allocation columns reads (besides ``day`` and
        the money): the first rollup of this snapshot that has them all
        (``finops.rollups.ROLLUPS``, smallest grain first), else the raw ``allocation``. The
        one chooser: every read of allocated spend in the API and dashboards goes through it."""
        wanted = {"day", *MONEY, *needed}
        for rollup in ROLLUPS:
            if rollup.general and wanted <= self.columns(rollup.name):
                return rollup.name
        return "allocation"

    def data_range(self) -> tuple[date, date] | None:
        """First and last day that have been allocated."""
        return self.generation.fact("data_range", self._data_range)

    def _data_range(self) -> tuple[date, date] | None:
        first, last = self.frame(f"SELECT min(day), max(day) FROM {self.source()}").row(0)
        return (first, last) if isinstance(first, date) and isinstance(last, date) else None

    def data_through(self) -> date | None:
        """The last day that has been allocated (dashboards label charts with it)."""
        found = self.data_range()
        return found[1] if found else None

    def window(self, start: date | None, end: date | None, days: int = DEFAULT_DAYS) -> Window:
        """The requested window. By default it ends on the last day with data and covers at
        least the last ``days`` days and the whole month of ``end`` (month to date, as budgets
        count it), but starts no earlier than the first day with data. At most
        ``max_window_days`` long: a longer one is a 400."""
        found = self.data_range()
        end = end or (found[1] if found else date.today())
        if start is None:
            start = min(end - timedelta(days=days - 1), end.replace(day=1))
            if found and start < found[0] <= end:
                start = found[0]
        if start > end:
            raise InputError(f"start {start} is after end {end}")
        length = (end - start).days + 1
        if length > self.max_window_days:
            raise InputError(f"window {start} .. {end} is {length} days; at most "
                             f"{self.max_window_days} (FINOPS_API__MAX_WINDOW_DAYS)")
        return Window(start=start, end=end)
