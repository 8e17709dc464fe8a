"""Dashboard fixtures: the API tests' hand-written warehouse and client
(``tests.support.api_warehouse``), and the fixture finops.yaml's tokens by role."""

from __future__ import annotations

import pytest

from tests.support.api_warehouse import TOKENS, client, settings  # noqa: F401  (fixtures)


@pytest.fixture
def token() -> dict[str, str]:
    """Role -> token of the fixture finops.yaml."""
    return {name: value for name, (value, _) in TOKENS.items()}
