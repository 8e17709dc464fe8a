"""POST /api/sql: one read-only SELECT on the published warehouse (platform tokens only).

The sandbox (``finops.sandbox``) holds the guarantees: a single-SELECT gate, a read-only
connection with external access off and the configuration locked, a time limit, a row cap.
Rejections and timeouts come back as the canonical error body with status 400.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder

from finops.api.deps import ContextDep, PrincipalDep
from models.api import SqlRequest, SqlResponse
from models.errors import QueryRejected, QueryTimeout

router = APIRouter(prefix="/api", tags=["sql"])


@router.post("/sql", response_model=SqlResponse)
def run_sql(request: SqlRequest, principal: PrincipalDep, ctx: ContextDep) -> SqlResponse:
    """Run one SELECT (DESCRIBE/SHOW/SUMMARIZE count as SELECT). Rows are capped at
    ``max_rows`` (and the server's cap); ``truncated`` says whether more existed."""
    principal.require_sql()
    try:
        result = ctx.sandbox.run(request.sql, max_rows=request.max_rows)
    except QueryTimeout:
        ctx.metrics.sql_outcome("timeout")
        raise
    except QueryRejected:
        ctx.metrics.sql_outcome("rejected")
        raise
    ctx.metrics.sql_outcome("ok")
    rows = jsonable_encoder([list(row) for row in result.rows])
    return SqlResponse(columns=result.columns, rows=rows, row_count=len(result.rows),
                       truncated=result.truncated, elapsed_ms=round(result.elapsed_ms, 1))
