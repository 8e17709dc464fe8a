"""Governance fixtures: the hand-checked scenario (``tests.support.governance_data``)."""

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.support import governance_data


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(warehouse, finops.yaml) of the scenario, built and published once per module."""
    return governance_data.build(tmp_path_factory.mktemp("governance"))


@pytest.fixture
def snapshot(scenario: tuple[Path, Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(scenario[0].with_name("finops.published.duckdb")), read_only=True)
    yield con
    con.close()
