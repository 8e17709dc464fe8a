"""Money in more than one currency, end to end through the CLI: a USD FOCUS bill, a EUR GCP
export carrying its own rate and a JPY Azure export whose rate is configured, allocated in
USD; team totals equal the hand-converted sums to the cent; a missing rate fails the run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from finops.pipeline.currency import held_elsewhere
from finops.warehouse import CursorReader, Warehouse
from tests.support import currency_org as org
from tests.support import run_cli

WINDOW = ["--start", "2026-10-01", "--end", "2026-10-03"]


def _cli(db: Path, config: Path, args: list[str], capsys: pytest.CaptureFixture[str],
         ) -> tuple[int, str, str]:
    return run_cli(["--db", str(db), "--config", str(config), *args], capsys)


def _ingested(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: Path,
              ) -> org.Organisation:
    organisation = org.build(tmp_path)
    for args in organisation.ingest_args():
        code, _, err = _cli(organisation.db, config, args, capsys)
        assert code == 0, err
    return organisation


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_two_currency_organisation_allocates_in_the_reporting_currency(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = org.write_config(tmp_path / "finops.yaml")
    organisation = _ingested(tmp_path, capsys, config)
    code, out, err = _cli(organisation.db, config, ["allocate", *WINDOW], capsys)
    assert code == 0, err
    assert "Amounts in USD (reporting_currency in finops.yaml)" in out

    expected = org.team_totals(organisation.lines)
    got = dict(_rows(organisation.db, "SELECT team, sum(effective_cost) FROM allocation "
                                      "GROUP BY team"))
    assert set(got) == set(expected)
    for team, usd in expected.items():
        assert round(got[team], 2) == round(usd, 2), team
    by_view = dict(_rows(organisation.db, "SELECT team, sum(effective_cost) FROM "
                                          "cost_by_team_daily GROUP BY team"))
    assert {t: round(v, 2) for t, v in by_view.items()} == {
        t: round(v, 2) for t, v in expected.items() if t is not None}
    assert _rows(organisation.db, "SELECT DISTINCT currency FROM cost_by_team_daily") == [("USD",)]
    assert "$" in out and "€" not in out  # the totals are printed in the reporting currency


def test_every_row_keeps_the_amount_as_billed_and_its_rate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = org.write_config(tmp_path / "finops.yaml")
    organisation = _ingested(tmp_path, capsys, config)
    assert _cli(organisation.db, config, ["allocate", *WINDOW], capsys)[0] == 0
    rows = _rows(organisation.db, """
        SELECT billing_currency, fx_source, min(fx_rate), max(fx_rate),
               sum(billing_effective_cost), sum(effective_cost),
               max(abs(effective_cost - billing_effective_cost * fx_rate))
        FROM allocation GROUP BY ALL ORDER BY 1""")
    billed = {c: sum(line.amount for line in organisation.lines if line.currency == c)
              for c in ("EUR", "JPY", "USD")}
    assert [(r[0], r[1]) for r in rows] == [("EUR", "export:gcp-billing"),
                                            ("JPY", "finops.yaml"), ("USD", "same-currency")]
    eur, jpy, usd = rows
    assert eur[2] == pytest.approx(1 / org.EUR_PER_USD) == eur[3]  # GCP's rate, inverted
    assert jpy[2] == org.USD_PER_JPY and usd[2] == 1.0
    for row in rows:
        assert round(row[4], 2) == round(billed[row[0]], 2)  # as billed, untouched
        assert row[6] < 1e-9  # effective_cost = billing_effective_cost x fx_rate, row by row
    assert round(jpy[5], 2) == round(billed["JPY"] * org.USD_PER_JPY, 2)
    # Both checks read back zero: per billing account in its own currency, and converted.
    assert _rows(organisation.db, "SELECT DISTINCT billing_currency, difference FROM "
                                  "reconciliation ORDER BY 1") == [
        ("EUR", 0), ("JPY", 0), ("USD", 0)]
    converted = _rows(organisation.db, "SELECT count(*), sum(abs(difference)), "
                                       "count(*) FILTER (WHERE difference IS NULL) "
                                       "FROM reconciliation_reporting")
    assert converted[0][0] == 9 and converted[0][1] == 0 and converted[0][2] == 0  # 3 x 3 days
    fx = _rows(organisation.db, "SELECT DISTINCT billing_account_id, billing_currency, fx_source "
                                "FROM allocation_fx WHERE priced_by = 'bill' ORDER BY 1")
    assert fx == [(org.EUR_ACCOUNT, "EUR", "export:gcp-billing"),
                  (org.USD_ACCOUNT, "USD", "same-currency"),
                  (org.JPY_ACCOUNT, "JPY", "finops.yaml")]


def test_a_missing_rate_fails_the_run_naming_currency_account_and_month(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = org.write_config(tmp_path / "finops.yaml", jpy_rate=False)
    organisation = _ingested(tmp_path, capsys, config)
    code, _, err = _cli(organisation.db, config, ["allocate", *WINDOW], capsys)
    assert code == 1
    assert (f"JPY -> USD: billing account '{org.JPY_ACCOUNT}', 2026-10 (3 days from "
            "2026-10-01)") in err
    assert "finops fx load FILE" in err and "Traceback" not in err
    assert _rows(organisation.db, "SELECT count(*) FROM allocation") == [(0,)]  # nothing lost
    assert _rows(organisation.db, "SELECT status FROM ingest_runs WHERE source = 'allocate'"
                 ) == [("failed",)]


def test_the_rate_can_come_from_a_loaded_csv(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = org.write_config(tmp_path / "finops.yaml", jpy_rate=False)
    organisation = _ingested(tmp_path, capsys, config)
    rates = tmp_path / "rates.csv"
    rates.write_text(f"date,from,to,rate\n2026-10,USD,JPY,{1 / org.USD_PER_JPY}\n")
    code, _, err = _cli(organisation.db, config, ["fx", "load", str(rates)], capsys)
    assert code == 0 and "1 rates" in err
    assert _cli(organisation.db, config, ["allocate", *WINDOW], capsys)[0] == 0
    got = dict(_rows(organisation.db, "SELECT team, sum(effective_cost) FROM allocation "
                                      "GROUP BY team"))
    for team, usd in org.team_totals(organisation.lines).items():
        assert round(got[team], 2) == round(usd, 2)
    # stated USD -> JPY in the file: used inverted, and its source named
    assert _rows(organisation.db, "SELECT DISTINCT fx_source FROM allocation "
                                  "WHERE billing_currency = 'JPY'") == [("file:rates.csv",)]


def test_without_a_reporting_currency_the_largest_share_is_chosen_and_stated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = org.write_config(tmp_path / "finops.yaml", reporting=None)
    organisation = _ingested(tmp_path, capsys, config)
    code, out, err = _cli(organisation.db, config, ["allocate", *WINDOW], capsys)
    assert code == 0, err
    usd = {c: sum(org.to_usd(line) for line in organisation.lines if line.currency == c)
           for c in ("USD", "EUR", "JPY")}
    largest = max(usd, key=lambda c: usd[c])
    assert largest == "USD"  # the fixture's design; the share printed is computed below
    share = usd["USD"] / sum(usd.values())
    assert f"Amounts in USD (the largest share of the bill ({share:.0%}" in out


def test_one_warehouse_reports_in_one_currency(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = org.write_config(tmp_path / "finops.yaml")
    organisation = _ingested(tmp_path, capsys, config)
    day_one = ["allocate", "--start", "2026-10-01", "--end", "2026-10-01"]
    assert _cli(organisation.db, config, day_one, capsys)[0] == 0
    in_eur = org.write_config(tmp_path / "eur.yaml", reporting="EUR")
    code, _, err = _cli(organisation.db, in_eur, ["allocate", "--start", "2026-10-02",
                                                  "--end", "2026-10-02"], capsys)
    assert code == 1
    assert ("days already allocated are in USD, and this run would report in EUR: set "
            "`reporting_currency: USD`") in err
    assert _rows(organisation.db, "SELECT DISTINCT day, currency FROM allocation") == [
        (date(2026, 10, 1), "USD")]


def test_a_run_of_a_few_days_keeps_the_currency_and_rates_of_the_others(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = org.write_config(tmp_path / "finops.yaml", reporting=None)
    organisation = _ingested(tmp_path, capsys, config)
    assert _cli(organisation.db, config, ["allocate", *WINDOW], capsys)[0] == 0
    per_day = "SELECT day, count(*), any_value(run_id) FROM allocation_fx GROUP BY 1 ORDER BY 1"
    before = _rows(organisation.db, per_day)
    code, out, err = _cli(organisation.db, config, ["allocate", "--start", "2026-10-02",
                                                    "--end", "2026-10-02"], capsys)
    assert code == 0, err
    assert "Amounts in USD (the currency of the other days already allocated)" in out
    after = _rows(organisation.db, per_day)
    assert [(d, n) for d, n, _ in after] == [(d, n) for d, n, _ in before]  # no day twice
    assert after[0][2] == before[0][2] and after[2][2] == before[2][2]
    assert after[1][2] != before[1][2]  # only the day allocated again has the new run's rates


def test_the_currencies_held_elsewhere_are_found_past_the_first_row_group(tmp_path: Path) -> None:
    """The currencies of the other days are read from one row and the rows that differ from it
    (row groups of one currency are skipped by their min/max): every currency, and a missing
    one, is still found wherever it lies, and the run's own days are left out."""
    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.con.execute("INSERT INTO allocation (day, currency) SELECT DATE '2026-10-01', 'USD' "
                       "FROM range(300000)")
        wh.con.execute("INSERT INTO allocation (day, currency) VALUES (DATE '2026-10-02', 'EUR'), "
                       "(DATE '2026-10-02', NULL), (DATE '2026-10-03', 'JPY')")
        reader = CursorReader(wh.con)
        assert held_elsewhere(reader, [date(2026, 10, 3)]) == ["EUR", "USD", None]
        assert held_elsewhere(reader, [date(2026, 10, 1), date(2026, 10, 2)]) == ["JPY"]
        assert held_elsewhere(reader, [date(2026, 10, d) for d in (1, 2, 3)]) == []
