"""The demo warehouse, built once per test session the way a user builds it.

``demo_db`` runs ``finops demo --no-serve`` (every ingest, ``allocate``, ``budgets check``) into
a temporary directory and yields the published snapshot's path. Registered for every test
area by ``tests/conftest.py``; any test that needs the whole demo pipeline asks for it rather
than building its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import exit_code


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "finops.duckdb"
    assert exit_code(["--db", str(db), "demo", "--no-serve"]) == 0, "finops demo --no-serve failed"
    return db.with_name("finops.published.duckdb")
