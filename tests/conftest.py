"""Fixtures every area can use: settings isolated from the developer's env, a warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finops.warehouse import Warehouse

# Fixtures every area may ask for: chromium and browser_page (Playwright), demo_db.
pytest_plugins = ["tests.support.browser", "tests.support.demo"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer or CI FINOPS_* variable leaks into a test."""
    import os

    for key in list(os.environ):
        if key.startswith("FINOPS_"):
            monkeypatch.delenv(key)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    with Warehouse(tmp_path / "finops.duckdb") as wh:
        yield wh
