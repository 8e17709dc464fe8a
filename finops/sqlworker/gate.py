"""The first filter: exactly one statement, and it must be a SELECT.

Only a filter: a data-modifying CTE passes as a SELECT, and the read-only connection with
external access off is what refuses it. It runs in the worker, so even parsing untrusted text
happens outside the API process.
"""

from __future__ import annotations

import duckdb

from models.errors import QueryRejected


def check_single_select(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.ParserException as exc:
        raise QueryRejected(f"SQL does not parse: {exc}") from None
    if len(statements) != 1:
        raise QueryRejected(f"only a single SELECT is allowed, got {len(statements)} statements")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryRejected(f"only a single SELECT is allowed, got {kind.name}")
