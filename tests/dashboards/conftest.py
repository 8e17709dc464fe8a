"""Dashboard fixtures: the API tests' hand-written warehouse (tests/api/fixture_warehouse.py),
loaded by path so this folder does not depend on tests/api being on sys.path."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.settings import Settings


def _fixture_module() -> ModuleType:
    if "fixture_warehouse" in sys.modules:
        return sys.modules["fixture_warehouse"]
    path = Path(__file__).resolve().parent.parent / "api" / "fixture_warehouse.py"
    spec = importlib.util.spec_from_file_location("fixture_warehouse", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["fixture_warehouse"] = module
    spec.loader.exec_module(module)
    return module


fixture_warehouse = _fixture_module()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    built: Settings = fixture_warehouse.build(tmp_path_factory.mktemp("dash"))
    return built


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def token() -> dict[str, str]:
    """Role -> token of the fixture finops.yaml."""
    return {name: value for name, (value, _) in fixture_warehouse.TOKENS.items()}
