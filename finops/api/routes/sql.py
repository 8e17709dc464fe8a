"""POST /api/sql: one read-only SELECT on the published warehouse (platform tokens only).

The sandbox (``finops.sandbox``) holds the guarantees: a single-SELECT gate, a read-only
connection with external access off and the configuration locked, in a worker process with a
memory cap that is killed at the time limit plus a grace. Rejections and limits come back as
the canonical error body with status 400; a full queue as 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from finops.api.deps import ContextDep, PrincipalDep
from finops.api.errors import error_response
from finops.api.metrics import Metrics
from models.api import ErrorBody, SqlRequest, SqlResponse
from models.errors import QueryLimitExceeded, QueryRejected, SandboxBusy

router = APIRouter(prefix="/api", tags=["sql"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Not a single SELECT, refused by the read-only "
          "connection, or stopped at the time or memory limit."},
    403: {"model": ErrorBody, "description": "The token's role may not run SQL."},
    429: {"model": ErrorBody, "description": "Every SQL worker is busy and the queue is full; "
          "`Retry-After` says when to try again."},
    503: {"model": ErrorBody, "description": "No published warehouse yet, or a SQL worker "
          "process could not start."},
}


@router.post("/sql", response_model=SqlResponse, responses=ERRORS)
def run_sql(request: SqlRequest, principal: PrincipalDep,
            ctx: ContextDep) -> SqlResponse | JSONResponse:
    """Run one SELECT (DESCRIBE/SHOW/SUMMARIZE count as SELECT). Rows are capped at
    ``max_rows`` (and the server's cap) and at the server's result size; ``truncated`` says
    whether more existed and ``truncated_by`` which cap cut them. Values that JSON cannot carry
    exactly come as text in a stated format (``BLOB`` base64, ``DECIMAL`` exact digits, …);
    ``types`` names each column's DuckDB type."""
    principal.require_sql()
    try:
        result = ctx.sandbox.run(request.sql, max_rows=request.max_rows)
    except SandboxBusy as exc:
        ctx.metrics.sql_outcome("queue_full")
        busy = error_response(exc.status, str(exc))
        busy.headers["Retry-After"] = str(exc.retry_after_s)
        return busy
    except (QueryLimitExceeded, QueryRejected) as exc:
        _count_failure(ctx.metrics, exc)
        raise
    ctx.metrics.sql_outcome("ok")
    return SqlResponse(columns=result.columns, types=result.types, rows=result.rows,
                       row_count=len(result.rows), truncated=result.truncated,
                       truncated_by=result.truncated_by, elapsed_ms=round(result.elapsed_ms, 1))


def _count_failure(metrics: Metrics, exc: QueryLimitExceeded | QueryRejected) -> None:
    if isinstance(exc, QueryRejected):
        metrics.sql_outcome("rejected")
        return
    metrics.sql_outcome(f"{exc.limit}_limit")
    if exc.killed:
        metrics.sql_worker_killed(exc.limit)
