from __future__ import annotations

import json
from datetime import date

import pytest

from finops import alerts
from finops.alerts.budgets import evaluate, period_window
from finops.alerts.compose import budget_parent
from finops.warehouse import Warehouse
from models.config import FinOpsConfig, parse_config
from models.currency import format_money
from models.errors import ConfigError
from tests.support.budget_data import (
    FIRST_DAY,
    LAST_DAY,
    PAYMENTS_DAILY,
    UNOWNED_DAILY,
    allocation_rows,
)

PER_DAY = sum(PAYMENTS_DAILY.values())  # 69.41
DATA_RANGE = (FIRST_DAY, LAST_DAY)


@pytest.mark.parametrize(("kind", "day", "start", "end", "label"), [
    ("month", date(2026, 10, 20), date(2026, 10, 1), date(2026, 10, 31), "2026-10"),
    ("month", date(2028, 2, 3), date(2028, 2, 1), date(2028, 2, 29), "2028-02"),
    ("quarter", date(2026, 11, 15), date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
    ("quarter", date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31), "2026-Q1"),
    ("week", date(2026, 10, 20), date(2026, 10, 19), date(2026, 10, 25), "2026-W43"),
    ("week", date(2027, 1, 1), date(2026, 12, 28), date(2027, 1, 3), "2026-W53"),
])
def test_period_window(kind: str, day: date, start: date, end: date, label: str) -> None:
    period = period_window(kind, day)
    assert (period.start, period.end, period.label) == (start, end, label)


def test_monthly_team_budget_to_the_cent(config: FinOpsConfig) -> None:
    status = evaluate(config.budgets[0], allocation_rows(), date(2026, 10, 20), DATA_RANGE)
    assert round(status.actual, 2) == round(20 * PER_DAY, 2) == 1388.20
    assert round(status.percent_used, 2) == 92.55
    assert status.forecast.ok and status.forecast.method == "trend"
    assert round(status.forecast.point or 0, 2) == round(31 * PER_DAY, 2) == 2151.71
    crossed = [(t.kind, t.percent) for t in status.crossed]
    assert crossed == [("actual", 50), ("actual", 80), ("forecast", 100)]
    assert status.crossed[0].alert_key == "budget:payments-monthly:2026-10:actual:50"
    assert [(d["name"], d["cost"]) for d in status.drivers] == [
        ("namespace payments-api", 827.40), ("namespace payments-db", 361.00),
        ("service Amazon RDS", 199.80)]


def test_filter_budget_counts_unowned_spend_too(config: FinOpsConfig) -> None:
    status = evaluate(config.budgets[1], allocation_rows(), date(2026, 10, 20), DATA_RANGE)
    per_day = PER_DAY + sum(UNOWNED_DAILY.values())
    assert status.period.label == "2026-W43"
    assert round(status.actual, 2) == round(2 * per_day, 2) == 147.98
    assert status.crossed == []


def test_data_lag_counts_to_the_last_day_with_data(config: FinOpsConfig) -> None:
    status = evaluate(config.budgets[0], allocation_rows(), date(2026, 10, 25), DATA_RANGE)
    assert status.data_through == LAST_DAY
    assert status.forecast.remaining_days == 11  # Oct 21-31 are still to come
    assert round(status.actual, 2) == 1388.20


def test_too_little_history_never_fires_a_forecast_threshold(config: FinOpsConfig) -> None:
    rows = allocation_rows(first=date(2026, 10, 17))
    status = evaluate(config.budgets[0], rows, date(2026, 10, 20), (date(2026, 10, 17), LAST_DAY))
    assert not status.forecast.ok
    assert status.forecast.reason == "needs 7 days of history, has 4"
    assert [t.kind for t in status.crossed] == []  # 277.64 is < 50 %; forecast refused


def test_message_names_the_numbers(config: FinOpsConfig) -> None:
    status = evaluate(config.budgets[0], allocation_rows(), date(2026, 10, 20), DATA_RANGE)
    *lower, highest = sorted(status.crossed, key=lambda t: t.rank)
    url = "https://finops.example.com/dashboards/team/payments"
    message = budget_parent(status, highest, lower, url)
    blocks = json.dumps(message["blocks"], ensure_ascii=False)
    for expected in ("$1,388.20 of $1,500.00 (92.5%)", "$2,151.71",
                     "namespace payments-api: $827.40", "service Amazon RDS: $199.80",
                     "2026-10", url, "Acknowledge", "Snooze 7 days"):
        assert expected in blocks, expected
    assert message["text"].startswith(
        "Budget payments-monthly 2026-10: forecast 100% (with actual 50%, actual 80%) crossed")
    assert "$1,388.20" in message["text"]


def test_money_format() -> None:
    assert format_money(1234.5, "USD") == "$1,234.50"
    assert format_money(-3.456, "USD") == "-$3.46"
    assert format_money(10, "EUR") == "€10.00"
    assert format_money(10, "EUR", "de_DE") == "10,00\xa0€"
    assert format_money(1234.5, "JPY") == "¥1,234"  # no minor unit
    assert format_money(None, "USD") == "n/a"


def test_unknown_filter_column_names_the_key_path(budget_wh: Warehouse) -> None:
    bad = parse_config({"budgets": [{"name": "x", "filter": {"region": "eu"}, "amount": 1}]})
    with pytest.raises(ConfigError, match=r"budgets\[0\]\.filter\.region: not a text column"):
        alerts.budget_status(budget_wh.con, bad, date(2026, 10, 20))
