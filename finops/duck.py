"""DuckDB connection state for the length of a block: frames registered as tables
(``registered``), settings changed and put back (``duckdb_settings``).

Both the warehouse (a load's incoming frame, its small inserts) and the pipeline (a run's
threads while its days stream) need them, so they live below both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb
import polars as pl

from models.loads import sql_literal


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, tables: Mapping[str, pl.DataFrame],
               ) -> Iterator[None]:
    """``tables`` (name -> frame) as tables of ``con`` for the block, then gone."""
    for name, rows in tables.items():
        con.register(name, rows.to_arrow())
    try:
        yield
    finally:
        for name in tables:
            con.unregister(name)


@contextmanager
def duckdb_settings(con: duckdb.DuckDBPyConnection, values: Mapping[str, str],
                    ) -> Iterator[None]:
    """DuckDB's ``values`` (setting name -> value) for the block, then each as it was."""
    before = {name: _setting(con, name) for name in values}
    try:
        for name, value in values.items():
            con.execute(f"SET {name} = {sql_literal(value)}")
        yield
    finally:
        for name, value in before.items():
            con.execute(f"SET {name} = {sql_literal(value)}")


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    # fetchall: a result left unfinished would hold the connection (DuckDB 2).
    rows = con.execute("SELECT current_setting(?)", [name]).fetchall()
    return str(rows[0][0]) if rows else ""
