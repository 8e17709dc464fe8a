"""Read-only SQL for the platform team: the DuckDB recipe, in order, with hard limits.

1. A gate: exactly one statement, and it must be a SELECT (``duckdb.extract_statements``).
2. A dedicated read-only connection to the published snapshot, opened with external access
   off, extensions and secrets off, threads capped, ``max_execution_time`` set and the
   configuration locked. The connection, not the text check, is the guarantee: a
   data-modifying CTE passes the gate as a SELECT and is refused by the read-only file.
3. A watchdog (``interrupt`` on a timer) as the second time limit.
4. ``fetchmany`` up to ``max_rows`` and ``max_result_bytes``, and a ``truncated`` flag.
5. Limits the engine cannot enforce are enforced by the OS: ``run`` executes 1–4 in a worker
   process (``finops.sqlworker``) under a memory cap, killed at the time limit plus a grace.

The API's own reads (routes, dashboards) never come here: they lease a snapshot generation
(``finops.api.snapshots``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from finops.settings import SqlSettings
from finops.sqlworker.gate import check_single_select
from finops.sqlworker.pool import WorkerPool
from finops.sqlworker.protocol import Job, WorkerSpec
from finops.warehouse import read_only_config
from models.errors import QueryRejected

__all__ = ["QueryResult", "Sandbox", "check_single_select", "worker_spec"]


@dataclass
class QueryResult:
    """Rows as JSON values (see ``finops.sqlworker.values``) and each column's DuckDB type."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    elapsed_ms: float
    types: list[str] = field(default_factory=list)
    truncated_by: str | None = None  # "rows" or "bytes"


def worker_spec(snapshot: Path, sql: SqlSettings) -> WorkerSpec:
    """The worker's DuckDB gets 3/4 of the OS cap, so its own operators fail cleanly first
    and the rest is headroom for the interpreter and the result's conversion."""
    config = read_only_config(memory_limit=f"{sql.memory_cap_mb * 3 // 4}MiB",
                              threads=sql.threads, time_limit_ms=sql.time_limit_ms)
    return WorkerSpec(snapshot=str(snapshot), duckdb_config=config,
                      memory_cap_mb=sql.memory_cap_mb, time_limit_ms=sql.time_limit_ms)


class Sandbox:
    """Sandboxed queries in a pool of worker processes."""

    def __init__(self, snapshot: Path, sql: SqlSettings | None = None) -> None:
        self.snapshot = snapshot
        self.sql = sql or SqlSettings()
        self.max_rows = self.sql.max_rows
        self.time_limit_ms = self.sql.time_limit_ms
        self.pool = WorkerPool(worker_spec(snapshot, self.sql), self.sql)

    def start(self) -> None:
        """Pre-start the workers (the first query then finds them ready)."""
        self.pool.start()

    def run(self, sql: str, params: dict[str, Any] | None = None,
            max_rows: int | None = None) -> QueryResult:
        if len(sql) > self.sql.max_sql_chars:
            raise QueryRejected(f"the SQL text is {len(sql)} characters; the limit is "
                                f"{self.sql.max_sql_chars}")
        job = Job(sql, params or {}, min(max_rows or self.max_rows, self.max_rows),
                  self.sql.max_result_bytes)
        started = time.monotonic()
        reply = self.pool.run(job)
        return QueryResult(columns=reply["columns"], rows=reply["rows"],
                           truncated=reply["truncated"],
                           elapsed_ms=(time.monotonic() - started) * 1000,
                           types=reply["types"], truncated_by=reply["truncated_by"])

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

