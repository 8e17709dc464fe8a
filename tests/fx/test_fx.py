"""finops.fx: which rate converts what, in which direction, from which source."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from finops.fx import CANDIDATE, Converted, Rates, config_rates, in_currency
from models.config import parse_config
from models.errors import CurrencyError

OCT2 = date(2026, 10, 2)


def _rates(**sources: list[tuple[str, str, date, date, float]]) -> list[pl.DataFrame]:
    return [pl.DataFrame([{"from_currency": f, "to_currency": t, "valid_from": a,
                           "valid_to": b, "rate": r, "source": name}
                          for f, t, a, b, r in rows], schema=CANDIDATE)
            for name, rows in sources.items()]


def test_a_rate_converts_both_ways_and_names_its_source() -> None:
    rates = Rates(*_rates(file=[("JPY", "USD", date(2026, 10, 1), date(2026, 11, 1), 0.0067)]))
    assert rates.convert(1000.0, "JPY", "USD", OCT2).amount == pytest.approx(6.7)
    back = rates.convert(6.7, "USD", "JPY", OCT2)
    assert back.amount == pytest.approx(1000.0) and back.source == "file"
    assert back.rate == pytest.approx(1 / 0.0067)
    assert rates.convert(5.0, "EUR", "EUR", OCT2) == Converted(5.0, 1.0, "same-currency")


def test_earlier_sources_win_then_the_narrower_period_then_the_stated_direction() -> None:
    month = (date(2026, 10, 1), date(2026, 11, 1))
    first, second = _rates(
        config=[("EUR", "USD", *month, 1.10)],
        file=[("EUR", "USD", OCT2, date(2026, 10, 3), 1.20), ("USD", "EUR", *month, 0.5)])
    assert Rates(first, second).rate("EUR", "USD", OCT2) == (1.10, "config")
    assert Rates(second).rate("EUR", "USD", OCT2) == (1.20, "file")  # the day's rate
    assert Rates(second).rate("EUR", "USD", date(2026, 10, 9)) == (1.0 / 0.5, "file")


def test_no_rate_names_the_currencies_and_the_month() -> None:
    rates = Rates(*_rates(file=[("JPY", "USD", date(2026, 10, 1), date(2026, 11, 1), 0.0067)]))
    with pytest.raises(CurrencyError, match=r"from JPY to USD for 2026-11 \(2026-11-01\)"):
        rates.convert(1.0, "JPY", "USD", date(2026, 11, 1))


def test_finops_yaml_rates_are_monthly_or_daily() -> None:
    config = parse_config({"fx": {"rates": [
        {"from": "jpy", "to": "USD", "month": "2026-12", "rate": 0.007},
        {"from": "EUR", "to": "USD", "day": "2026-12-31", "rate": 1.1}]}})
    frame = config_rates(config)
    assert frame.rows() == [("JPY", "USD", date(2026, 12, 1), date(2027, 1, 1), 0.007,
                             "finops.yaml"),
                            ("EUR", "USD", date(2026, 12, 31), date(2027, 1, 1), 1.1,
                             "finops.yaml")]


def test_a_frame_is_converted_day_by_day_and_says_how() -> None:
    rates = Rates(*_rates(file=[("USD", "EUR", date(2026, 10, 1), OCT2, 0.9),
                                ("USD", "EUR", OCT2, date(2026, 10, 3), 0.8)]))
    spend = pl.DataFrame({"day": [date(2026, 10, 1), OCT2], "currency": ["USD", "USD"],
                          "effective_cost": [10.0, 10.0]})
    converted, how = in_currency(spend, rates, "EUR")
    assert converted["effective_cost"].to_list() == pytest.approx([9.0, 8.0])
    assert set(converted["currency"]) == {"EUR"}
    assert how == {"from": "USD", "to": "EUR", "rate": 0.8, "source": "file",
                   "rates": [0.8, 0.9]}
