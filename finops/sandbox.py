"""Read-only SQL for the platform team: the DuckDB recipe, in order.

1. A gate: exactly one statement, and it must be a SELECT (``duckdb.extract_statements``).
2. A dedicated read-only connection to the published snapshot, opened with external access
   off, extensions and secrets off, memory and threads capped, ``max_execution_time`` set and
   the configuration locked. The connection, not the text check, is the guarantee: a
   data-modifying CTE passes the gate as a SELECT and is refused by the read-only file.
3. A watchdog (``cursor.interrupt`` on a timer) as the second time limit.
4. ``fetchmany(max_rows + 1)`` and a ``truncated`` flag.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from finops.warehouse import open_snapshot
from models.errors import QueryRejected, QueryTimeout


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    elapsed_ms: float


def check_single_select(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRejected(f"SQL does not parse: {exc}") from None
    if len(statements) != 1:
        raise QueryRejected(f"only a single SELECT is allowed, got {len(statements)} statements")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryRejected(f"only a single SELECT is allowed, got {kind.name}")


class Sandbox:
    """One read-only connection to the snapshot; reopened when the snapshot is republished."""

    def __init__(self, snapshot: Path, *, max_rows: int = 1000, time_limit_ms: int = 2000,
                 memory_limit: str = "1GB", threads: int = 2) -> None:
        self.snapshot = snapshot
        self.max_rows = max_rows
        self.time_limit_ms = time_limit_ms
        self._limits = {"memory_limit": memory_limit, "threads": threads,
                        "time_limit_ms": time_limit_ms}
        self._con: duckdb.DuckDBPyConnection | None = None
        self._mtime = 0.0
        self._lock = threading.Lock()

    def connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            mtime = self.snapshot.stat().st_mtime if self.snapshot.exists() else 0.0
            if self._con is None or mtime != self._mtime:
                if self._con is not None:
                    self._con.close()
                self._con = open_snapshot(self.snapshot, **self._limits)
                self._mtime = mtime
            return self._con

    def run(self, sql: str, params: dict[str, Any] | None = None,
            max_rows: int | None = None) -> QueryResult:
        check_single_select(sql)
        limit = min(max_rows or self.max_rows, self.max_rows)
        cursor = self.connection().cursor()
        timer = threading.Timer(self.time_limit_ms / 1000 + 0.5, cursor.interrupt)
        started = _now_ms()
        timer.start()
        try:
            cursor.execute(sql, params or {})
            rows = cursor.fetchmany(limit + 1)
            columns = [d[0] for d in cursor.description or []]
        except duckdb.InterruptException:
            raise QueryTimeout(f"query exceeded {self.time_limit_ms} ms") from None
        except duckdb.Error as exc:
            raise QueryRejected(f"{type(exc).__name__}: {exc}") from None
        finally:
            timer.cancel()
            cursor.close()
        return QueryResult(columns, rows[:limit], len(rows) > limit, _now_ms() - started)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()


def _now_ms() -> float:
    import time

    return time.monotonic() * 1000
