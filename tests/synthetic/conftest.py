"""Fixtures: the committed demo data (finops/demo/data) and readers that do not use the
generator."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from finops.demo import DEMO_DIR as DEMO


@pytest.fixture(scope="session")
def demo() -> Path:
    return DEMO


@pytest.fixture(scope="session")
def totals(demo: Path) -> dict:
    return json.loads((demo / "expected_totals.json").read_text())


@pytest.fixture(scope="session")
def manifest(demo: Path) -> dict:
    paths = list((demo / "aws").rglob("*-Manifest.json"))
    assert len(paths) == 1
    return json.loads(paths[0].read_text())


@pytest.fixture(scope="session")
def cur_files(demo: Path, manifest: dict) -> list[Path]:
    prefix = f"s3://{manifest['bucket']}/"
    return [demo / "aws" / uri.removeprefix(prefix) for uri in manifest["dataFiles"]]


@pytest.fixture
def cur(cur_files: list[Path]) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB per test with a ``cur`` view over the export's files."""
    con = duckdb.connect()
    files = ", ".join(f"'{p}'" for p in cur_files)
    con.execute(f"CREATE VIEW cur AS SELECT * FROM read_parquet([{files}])")
    return con


@pytest.fixture(scope="session")
def gcp(demo: Path) -> pl.DataFrame:
    with gzip.open(demo / "gcp" / "billing_export.jsonl.gz", "rb") as fh:
        return pl.read_ndjson(fh.read(), infer_schema_length=None)


@pytest.fixture(scope="session")
def usage(demo: Path) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in (demo / "usage").glob("*.parquet")}
