"""Currencies: the ISO 4217 codes finops accepts, and the one way money is shown.

Every layer shows money through ``format_money`` (CLI summaries, Slack text, dashboards): the
symbol, the number of decimals (JPY has none, BHD three) and the separators come from CLDR
(Babel) for the currency *and* the locale, so no code writes a ``$`` beside an amount. The
currency of a figure always comes from the data (``allocation.currency``, a budget's
``currency``), never from a default.

Validation is against ISO 4217 as CLDR carries it (current and historic codes: an old bill
may be in HRK), not against a pattern: ``ABC`` has the shape of a code and is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    format_currency,
    get_currency_name,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    list_currencies,
)

DEFAULT_LOCALE = "en_US"
# ISO 4217 codes that name no money: "no currency" and the code reserved for tests.
NOT_MONEY = frozenset({"XXX", "XTS"})


@lru_cache(maxsize=1)
def iso_codes() -> frozenset[str]:
    """Every ISO 4217 code CLDR knows (current and historic), less the non-money codes."""
    return frozenset(list_currencies()) - NOT_MONEY


def check_currency(value: object) -> str:
    """``value`` as an upper-case ISO 4217 code, else ``ValueError`` saying what it is not."""
    code = value.strip().upper() if isinstance(value, str) else None
    if not code or code not in iso_codes():
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. USD, EUR, JPY)")
    return code


def check_locale(value: str) -> str:
    """``value`` as a CLDR locale identifier (``en_US``, ``de_DE``, ``fr``)."""
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        raise ValueError(f"{value!r} is not a locale (e.g. en_US, de_DE)") from None


def decimals(currency: str) -> int:
    """Minor-unit digits of ``currency``: 2 for USD and EUR, 0 for JPY, 3 for BHD."""
    return int(get_currency_precision(currency))


def symbol(currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """The currency's symbol as ``locale`` writes it (``$``, ``€``, ``¥``, ``CA$``)."""
    return str(get_currency_symbol(currency, locale=locale))


def name(currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """The currency's name in ``locale`` (``US Dollar``, ``Euro``)."""
    return str(get_currency_name(currency, locale=locale))


def format_money(amount: float | None, currency: str | None, locale: str = DEFAULT_LOCALE,
                 *, signed: bool = False) -> str:
    """``amount`` in ``currency`` as ``locale`` writes it (``$1,234.50``, ``1.234,50 €``,
    ``¥1,235``); ``n/a`` without an amount, the bare number without a currency (no data)."""
    if amount is None:
        return "n/a"
    text = (str(format_currency(amount, currency, locale=locale)) if currency
            else f"{amount:,.2f}")
    return f"+{text}" if signed and amount >= 0 else text


def label(currency: str | None, locale: str = DEFAULT_LOCALE) -> str:
    """An axis or column label: ``USD ($)``, ``EUR (€)``; the code alone when the symbol is
    the code itself; ``no data`` without a currency."""
    if not currency:
        return "no data"
    shown = symbol(currency, locale)
    return currency if shown == currency else f"{currency} ({shown})"


def separators(locale: str = DEFAULT_LOCALE) -> str:
    """Decimal then group separator of ``locale`` (plotly's ``layout.separators``)."""
    return f"{get_decimal_symbol(locale)}{get_group_symbol(locale)}"


@dataclass(frozen=True)
class MoneyFormat:
    """Money of one currency in one locale, for a whole report (a page, a message):
    ``fmt(12.5)`` -> ``€12.50``; ``fmt.label`` names the currency for axes and headers."""

    currency: str | None
    locale: str = DEFAULT_LOCALE

    def __call__(self, amount: float | None, *, signed: bool = False) -> str:
        return format_money(amount, self.currency, self.locale, signed=signed)

    @property
    def label(self) -> str:
        return label(self.currency, self.locale)

    @property
    def separators(self) -> str:
        return separators(self.locale)
