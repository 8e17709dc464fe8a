"""No 500 for any input: a property-based test over the OpenAPI schema (schemathesis).

Every operation of ``/openapi.json`` is called with generated parameters and bodies, valid and
invalid (schemathesis' positive and negative modes), each case once per role and once without
a token, against the real app (``create_app`` over the fixture warehouse). Any 5xx fails with
a curl line to reproduce it. Derandomized: the same cases on every run.

(schemathesis' own pytest loader, ``from_fixture``, does not run on pytest 9, so each
operation's strategy is driven by hypothesis here.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.formats import unregister_string_format

from finops.api import create_app
from finops.settings import Settings
from models.config import FinOpsConfig
from tests.support.api_warehouse import TOKENS

pytestmark = [pytest.mark.slow, pytest.mark.integration]
CALLERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    **{name: {"Authorization": f"Bearer {token}"} for name, (token, _) in TOKENS.items()},
}
EXAMPLES = 25  # per operation: ~1 s each, every caller included
# Days for every `format: date` parameter: anywhere in 0001..9999 (plain generation rarely
# reaches the ends, where date arithmetic overflows), the ends themselves, the accepted
# range's edges and the fixture's data.
DAYS = st.one_of(
    st.dates(), st.sampled_from([date.min, date.max]),
    st.dates(max_value=date(1, 3, 1)), st.dates(min_value=date(9999, 10, 1)),
    st.dates(min_value=date(1999, 11, 1), max_value=date(2000, 2, 1)),
    st.dates(min_value=date(2100, 11, 1), max_value=date(2101, 2, 1)),
    st.dates(min_value=date(2026, 9, 1), max_value=date(2026, 11, 30)),
).map(date.isoformat)


def operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation (the schema needs no warehouse)."""
    app = create_app(Settings(db=Path("/nonexistent/finops.duckdb")), FinOpsConfig())
    return [(method.upper(), path) for path, item in app.openapi()["paths"].items()
            for method in item]


@pytest.fixture(scope="module")
def api_schema(settings: Settings) -> Iterator[Any]:
    schemathesis.openapi.format("date", DAYS)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))
    finally:
        unregister_string_format("date")


@pytest.mark.parametrize(("method", "path"), operations())
def test_no_operation_answers_5xx_to_any_caller(api_schema: Any, method: str,
                                                path: str) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def no_server_error(case: Any) -> None:
        for caller, headers in CALLERS.items():
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                f"{caller}: {response.status_code} {response.text[:500]}\n"
                f"{case.as_curl_command(headers=headers)}")

    no_server_error()
