"""Anomaly detection, pure: series in, anomalies out (the warehouse side is exercised by
``test_conversations``)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from finops.alerts.anomalies import Anomaly, detect, merge, ranked_causes, robust_score
from finops.alerts.compose import anomaly_message
from models.config import Anomalies, Monitor

START = date(2026, 10, 1)
DAY = date(2026, 10, 20)
DEFAULTS = Anomalies().monitors


def flat(per_day: float, step: float = 0.0, from_day: date = DAY,
         last: date = DAY) -> dict[date, float]:
    days = [START + timedelta(days=i) for i in range((last - START).days + 1)]
    return {d: per_day + (step if d >= from_day else 0.0) for d in days}


def test_defaults_watch_every_dimension() -> None:
    assert [m.dimension for m in DEFAULTS] == ["team", "unowned", "account", "service",
                                               "cluster"]


@pytest.mark.parametrize("dimension", ["team", "unowned", "account", "service", "cluster"])
def test_defaults_catch_a_30_percent_step_of_10_a_day(dimension: str) -> None:
    series = {(dimension, "x"): flat(10.0, step=3.0)}
    [hit] = detect(series, [DAY], START, DEFAULTS)
    assert (hit.dimension, hit.value, hit.day) == (dimension, "x", DAY)
    assert round(hit.impact, 2) == 3.00 and hit.score == pytest.approx(6.0)


def test_flat_spend_and_a_20_percent_wobble_are_quiet() -> None:
    assert detect({("team", "a"): flat(10.0)}, [DAY], START, DEFAULTS) == []
    assert detect({("team", "a"): flat(10.0, step=1.5)}, [DAY], START, DEFAULTS) == []


def test_sensitivity_is_per_monitor() -> None:
    series = {("team", "a"): flat(10.0, step=3.0), ("service", "s"): flat(10.0, step=3.0)}
    monitors = [Monitor(dimension="team", min_impact=5.0), Monitor(dimension="service")]
    assert [a.dimension for a in detect(series, [DAY], START, monitors)] == ["service"]
    loose = [Monitor(dimension="team", threshold=50.0)]
    assert detect(series, [DAY], START, loose) == []


def test_a_step_is_found_on_its_first_day_only_by_the_caller_s_days() -> None:
    series = {("cluster", "eks-prod"): flat(10.0, step=5.0, from_day=date(2026, 10, 18))}
    days = [date(2026, 10, 17), date(2026, 10, 18)]
    assert [a.day for a in detect(series, days, START, DEFAULTS)] == [date(2026, 10, 18)]


def test_too_short_baseline_gives_no_verdict() -> None:
    start = DAY - timedelta(days=5)
    series = {("team", "a"): {start + timedelta(days=i): 10.0 for i in range(5)} | {DAY: 99.0}}
    assert detect(series, [DAY], start, DEFAULTS) == []


def test_robust_score_ignores_one_earlier_outlier() -> None:
    score, mid = robust_score(300.0, [100.0] * 13 + [900.0])
    assert mid == 100.0 and score == pytest.approx(40.0)


def cause(resource: str, actual: float, expected: float, team: str | None = "ml") -> dict[
        str, object]:
    return {"team": team, "sub_account_id": "222222222222", "service_name": "Amazon EC2",
            "cluster": None, "namespace": None, "workload_name": None, "resource_id": resource,
            "cost_kind": "cloud", "actual": actual, "expected": expected}


def test_root_causes_ranked_by_money_small_ones_dropped() -> None:
    rows = [cause("i-small", 1.03, 1.0), cause("i-big", 250.0, 0.0), cause("i-mid", 40.0, 8.0)]
    causes = ranked_causes(rows, impact=282.03, floor=0.5, share=0.05)
    assert [(c.keys["resource_id"], round(c.contribution, 2)) for c in causes] == [
        ("i-big", 250.0), ("i-mid", 32.0)]  # +0.03 is under the floor (and 5 % of impact)
    assert causes[0].name == "i-big (cloud) in account 222222222222"


def anomaly(dimension: str, value: str, top: str) -> Anomaly:
    [c] = ranked_causes([cause(top, 300.0, 0.0)], 300.0, 0.5, 0.05)
    return Anomaly(dimension, value, DAY, 310.0, 10.0, 10.0, 60.0, 14, "USD", [c])


def test_one_spike_seen_by_four_monitors_is_one_anomaly() -> None:
    seen = [anomaly("service", "Amazon EC2", "i-1"), anomaly("account", "222222222222", "i-1"),
            anomaly("team", "ml", "i-1"), anomaly("team", "web", "i-2")]
    merged = merge(seen)
    assert [(a.dimension, a.value) for a in merged] == [("team", "ml"), ("team", "web")]
    assert merged[0].also == [("account", "222222222222"), ("service", "Amazon EC2")]
    assert merged[0].as_dict()["also_seen_by"] == ["account 222222222222",
                                                   "service Amazon EC2"]


def test_message_names_causes_with_money_in_the_currency() -> None:
    message = anomaly_message(anomaly("team", "ml", "i-0abc"), "https://x/dashboards/team/ml")
    blocks = json.dumps(message["blocks"])
    assert "i-0abc (cloud) in account 222222222222" in blocks
    assert "+$300.00" in blocks and "+$300.00" in message["text"]
    assert "team ml" in message["text"]
