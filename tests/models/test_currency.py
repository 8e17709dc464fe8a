"""models.currency: ISO 4217 from CLDR (not a pattern) and money in a locale."""

from __future__ import annotations

import pytest

from models.config import parse_config
from models.currency import MoneyFormat, check_currency, check_locale, decimals, format_money
from models.errors import ConfigError


@pytest.mark.parametrize("code", ["USD", "eur", " JPY ", "HRK", "CHF"])
def test_iso_codes_are_accepted_upper_cased(code: str) -> None:
    assert check_currency(code) == code.strip().upper()


@pytest.mark.parametrize("code", ["ABC", "US", "XXX", "XTS", "", "€", 840])
def test_codes_of_the_right_shape_that_name_no_currency_are_refused(code: object) -> None:
    with pytest.raises(ValueError, match="is not an ISO 4217 currency code"):
        check_currency(code)


def test_minor_units_symbols_and_locales() -> None:
    assert (decimals("USD"), decimals("JPY"), decimals("BHD")) == (2, 0, 3)
    assert format_money(1234.5, "JPY") == "¥1,234"
    assert format_money(1234.5, "EUR", "de_DE") == "1.234,50\xa0€"
    assert format_money(-3.456, "GBP", "en_GB") == "-£3.46"
    assert format_money(1234.5, "BHD", "en_US") == "BHD1,234.500"  # CLDR: no symbol
    fmt = MoneyFormat("EUR", "fr_FR")
    assert fmt(0.5, signed=True).startswith("+") and fmt.label == "EUR (€)"
    assert fmt.separators == ",\u202f"
    assert check_locale("de-DE") == "de_DE"
    with pytest.raises(ValueError, match="is not a locale"):
        check_locale("xx_NOPE")


def test_finops_yaml_currencies_are_checked_with_their_key_path() -> None:
    with pytest.raises(ConfigError, match=r"reporting_currency: .*'EURO' is not an ISO 4217"):
        parse_config({"reporting_currency": "EURO"})
    with pytest.raises(ConfigError, match=r"budgets\[0\].currency: .*'DOLLAR'"):
        parse_config({"budgets": [{"name": "b", "team": "t", "amount": 1,
                                   "currency": "DOLLAR"}]})
    with pytest.raises(ConfigError, match=r"fx.rates\[0\]: .*exactly one of `month`"):
        parse_config({"fx": {"rates": [{"from": "JPY", "to": "USD", "rate": 0.1}]}})
    with pytest.raises(ConfigError, match=r"fx.rates\[0\].rate: Input should be greater than 0"):
        parse_config({"fx": {"rates": [{"from": "JPY", "to": "USD", "month": "2026-10",
                                        "rate": -1}]}})
