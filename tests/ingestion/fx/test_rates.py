"""`finops fx load FILE`: a CSV of monthly or daily rates, checked row by row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.support import run_cli

HEADER = "date,from,to,rate\n"


def _load(tmp_path: Path, body: str, capsys: pytest.CaptureFixture[str],
          name: str = "rates.csv") -> tuple[int, str, Path]:
    path = tmp_path / name
    path.write_text(body)
    db = tmp_path / "wh.duckdb"
    code, _, err = run_cli(["--db", str(db), "fx", "load", str(path)], capsys)
    return code, err, db


def _rates(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT from_currency, to_currency, valid_from, valid_to, rate, "
                           "source FROM fx_rate ORDER BY ALL").fetchall()
    finally:
        con.close()


def test_monthly_and_daily_rates_load_and_a_reload_replaces_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, db = _load(tmp_path, HEADER + "2026-10,JPY,USD,0.0067\n"
                          "2026-10-02,eur,usd,1.08\n", capsys)
    assert code == 0 and "2 rates" in err
    assert _rates(db) == [
        ("EUR", "USD", date(2026, 10, 2), date(2026, 10, 3), 1.08, "file:rates.csv"),
        ("JPY", "USD", date(2026, 10, 1), date(2026, 11, 1), 0.0067, "file:rates.csv")]
    code, _, db = _load(tmp_path, "Rate,To,From,Date\n0.0068,USD,JPY,2026-10\n", capsys,
                        "fixed.csv")
    assert code == 0
    assert _rates(db)[1] == ("JPY", "USD", date(2026, 10, 1), date(2026, 11, 1), 0.0068,
                             "file:fixed.csv")


@pytest.mark.parametrize(("row", "message"), [
    ("2026-10,JPX,USD,0.0067", "row 1, column 'from': 'JPX' is not an ISO 4217 currency code"),
    ("2026-10,JPY,US,0.0067", "row 1, column 'to': 'US' is not an ISO 4217"),
    ("2026-13,JPY,USD,0.0067", "row 1, column 'date': '2026-13' is not a month (2026-10) or a "
                               "day (2026-10-02)"),
    ("2026-10-32,JPY,USD,0.0067", "row 1, column 'date': '2026-10-32' is not a month"),
    ("2026-10,JPY,USD,0", "row 1, column 'rate': '0' is not a positive number"),
    ("2026-10,JPY,USD,-1", "row 1, column 'rate': '-1' is not a positive number"),
    ("2026-10,JPY,USD,inf", "row 1, column 'rate': 'inf' is not a positive number"),
    ("2026-10,JPY,USD,", "row 1, column 'rate': '' is not a positive number"),
    ("2026-10,USD,USD,1", "row 1, column 'to': 'USD' is the same currency as `from`"),
])
def test_a_bad_row_is_named_by_file_row_and_column_and_nothing_loads(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, message: str) -> None:
    code, err, db = _load(tmp_path, HEADER + row + "\n", capsys)
    assert code == 1 and f"Error: {tmp_path / 'rates.csv'}: {message}" in err
    assert "Traceback" not in err


def test_a_bad_header_a_repeat_and_an_empty_file_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err, _ = _load(tmp_path, "month,from,to,rate\n2026-10,JPY,USD,1\n", capsys)
    assert code == 1 and "header must be date,from,to,rate; missing: date; unknown: month" in err
    code, err, _ = _load(tmp_path, HEADER + "2026-10,JPY,USD,1\n2026-10,jpy,usd,2\n", capsys)
    assert code == 1 and "rows 1 and 2 both give the rate from JPY to USD" in err
    code, err, _ = _load(tmp_path, HEADER, capsys)
    assert code == 1 and "no rates" in err
    code, err, db = _load(tmp_path, HEADER + "2026-10,JPY,USD,0.0067\n2026-10,EUR,USD,x\n",
                          capsys)
    assert code == 1 and "row 2, column 'rate'" in err
    con = duckdb.connect(str(db), read_only=True)
    try:  # the failed run is recorded; no rate of the file was kept
        assert con.execute("SELECT count(*) FROM fx_rate").fetchone() == (0,)
        assert con.execute("SELECT status FROM ingest_runs WHERE source = 'fx-rates'"
                           ).fetchall() == [("failed",)] * 4
    finally:
        con.close()
