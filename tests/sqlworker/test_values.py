"""Every value DuckDB's Python client returns becomes exact JSON (``finops.sqlworker.values``)."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

import duckdb
import pytest

from finops.sqlworker.values import JSON_SAFE_INT, encode, encode_row


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), (True, True), ("tëxt", "tëxt"), (7, 7), (0.25, 0.25),
    (JSON_SAFE_INT, JSON_SAFE_INT), (JSON_SAFE_INT + 1, str(JSON_SAFE_INT + 1)),
    (-(2**70), str(-(2**70))), (math.nan, "NaN"), (math.inf, "Infinity"),
    (-math.inf, "-Infinity"), (Decimal("1.50"), "1.50"), (Decimal("-0.00"), "-0.00"),
    (Decimal("123456789012345678901234567.123456789"), "123456789012345678901234567.123456789"),
    (Decimal("1E+3"), "1000"), (Decimal("NaN"), "NaN"),
    (b"ab\x00\xff", "YWIA/w=="), (bytearray(b"a"), "YQ=="), (memoryview(b"a"), "YQ=="),
    (date(2026, 10, 1), "2026-10-01"), (time(12, 0, 1), "12:00:01"),
    (datetime(2026, 1, 1, 2, tzinfo=UTC), "2026-01-01T02:00:00+00:00"),
    (timedelta(days=32, seconds=3), "P32DT3S"), (timedelta(hours=1, minutes=30), "PT1H30M"),
    (timedelta(microseconds=1500), "PT0.0015S"), (timedelta(0), "P0D"),
    (-timedelta(days=1), "-P1D"),
    (UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    ({"team": b"x"}, {"team": "eA=="}), ({1: "x"}, [{"key": 1, "value": "x"}]),
    ({b"k": [b"v"]}, [{"key": "aw==", "value": ["dg=="]}]), ((1, 2), [1, 2]),
    ([[math.nan]], [["NaN"]]),
])
def test_encode(value: object, expected: object) -> None:
    encoded = encode(value)
    assert encoded == expected
    json.dumps(encoded, allow_nan=False)  # strict JSON: no NaN literal, no bytes


def test_an_unknown_type_becomes_its_text() -> None:
    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert encode(Odd()) == "odd"


def test_every_duckdb_type_of_a_real_query_is_strict_json() -> None:
    con = duckdb.connect()
    row = con.execute(
        "SELECT 'a\\x00'::BLOB, interval 1 month, 2::HUGEINT << 100, 18446744073709551615::UBIGINT,"
        " 1.5::DECIMAL(38, 10), MAP {1: 'x'}, {'x': 'b'::BLOB}, [1, 2]::INTEGER[2], 'inf'::FLOAT,"
        " uuid(), '101'::BIT, union_value(n := 2), TIME '12:00', TIMESTAMPTZ '2026-01-01 00:00+02',"
        " 'infinity'::DATE, [NULL, 'x'::BLOB], 'NaN'::DOUBLE").fetchone()
    assert row is not None
    encoded = encode_row(row)
    assert json.loads(json.dumps(encoded, allow_nan=False)) == encoded
    assert encoded[:5] == ["YQA=", "P30D", str(2 << 100), "18446744073709551615",
                           "1.5000000000"]
