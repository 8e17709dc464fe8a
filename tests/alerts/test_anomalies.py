from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from finops.anomalies import anomaly_message, detect, robust_score
from tests.support.budget_data import FIRST_DAY, LAST_DAY, PAYMENTS_DAILY, allocation_rows

SPIKE_DAY = date(2026, 10, 20)
SPIKE = {("payments-db", None, "ram"): 250.00, ("payments-api", None, "cpu"): 12.34}
CHECKED = [SPIKE_DAY - timedelta(days=i) for i in (2, 1, 0)]


def test_flat_spend_has_no_anomaly() -> None:
    assert detect(allocation_rows(), CHECKED, FIRST_DAY) == []


def test_injected_spike_is_found_with_ranked_root_causes() -> None:
    rows = allocation_rows(spike=SPIKE, spike_day=SPIKE_DAY)
    [anomaly] = detect(rows, CHECKED, FIRST_DAY)
    assert (anomaly.team, anomaly.day) == ("payments", SPIKE_DAY)
    assert round(anomaly.actual, 2) == round(sum(PAYMENTS_DAILY.values()) + 262.34, 2)
    assert round(anomaly.impact, 2) == 262.34
    assert anomaly.baseline_days == 14
    causes = [(c.namespace, c.cost_kind, round(c.contribution, 2)) for c in anomaly.root_causes]
    assert causes == [("payments-db", "ram", 250.00), ("payments-api", "cpu", 12.34)]
    assert anomaly.alert_key == "anomaly:payments:2026-10-20"


def test_day_after_a_spike_is_normal_again() -> None:
    rows = allocation_rows(last=date(2026, 10, 21), spike=SPIKE, spike_day=SPIKE_DAY)
    found = detect(rows, [SPIKE_DAY, date(2026, 10, 21)], FIRST_DAY)
    assert [a.day for a in found] == [SPIKE_DAY]


def test_too_short_baseline_gives_no_verdict() -> None:
    start = SPIKE_DAY - timedelta(days=5)
    rows = allocation_rows(first=start, spike=SPIKE, spike_day=SPIKE_DAY)
    assert detect(rows, [SPIKE_DAY], start) == []


def test_small_change_is_not_material() -> None:
    small = {("payments-db", None, "ram"): 20.00}  # z is high on flat data, $20 < $25 floor
    rows = allocation_rows(spike=small, spike_day=LAST_DAY)
    assert detect(rows, [LAST_DAY], FIRST_DAY) == []


def test_robust_score_ignores_one_earlier_outlier() -> None:
    baseline = [100.0] * 13 + [900.0]
    score, mid = robust_score(300.0, baseline)
    assert mid == 100.0 and score == pytest.approx(40.0)


def test_message_lists_causes_with_dollars() -> None:
    rows = allocation_rows(spike=SPIKE, spike_day=SPIKE_DAY)
    [anomaly] = detect(rows, [SPIKE_DAY], FIRST_DAY)
    message = anomaly_message(anomaly, "https://x/dashboards/team/payments")
    blocks = json.dumps(message["blocks"])
    assert "1. namespace payments-db (ram): +$250.00" in blocks
    assert "2. namespace payments-api (cpu): +$12.34" in blocks
    assert "+$262.34" in message["text"]
