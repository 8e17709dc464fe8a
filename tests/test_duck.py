"""DuckDB connection state held for a block: settings put back, frames unregistered."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from finops.duck import duckdb_settings, registered


def setting(con: duckdb.DuckDBPyConnection, name: str) -> object:
    rows = con.execute("SELECT current_setting(?)", [name]).fetchall()
    return rows[0][0] if rows else None


def test_duckdb_settings_hold_for_the_block_and_come_back_after_a_failure() -> None:
    con = duckdb.connect()
    con.execute("SET threads = 3")
    before = setting(con, "allocator_flush_threshold")
    with pytest.raises(RuntimeError), duckdb_settings(
            con, {"threads": "1", "allocator_flush_threshold": "1GB"}):
        assert setting(con, "threads") == 1
        assert setting(con, "allocator_flush_threshold") != before
        raise RuntimeError("the run failed")
    assert setting(con, "threads") == 3
    assert setting(con, "allocator_flush_threshold") == before


def test_registered_frames_are_tables_for_the_block_only_even_when_it_fails() -> None:
    con = duckdb.connect()
    with pytest.raises(RuntimeError), registered(con, {"t": pl.DataFrame({"n": [1, 2, 3]})}):
        assert con.execute("SELECT sum(n) FROM t").fetchall() == [(6,)]
        raise RuntimeError("the read failed")
    with pytest.raises(duckdb.CatalogException, match="t"):
        con.execute("SELECT * FROM t")
