from __future__ import annotations

import random

import pytest

from benchmarks.forecast_backtest import backtest, synthetic
from finops.alerts.forecast import forecast_total, t_quantile


def linear(n: int, intercept: float = 100.0, slope: float = 2.5) -> list[float]:
    return [intercept + slope * x for x in range(n)]


def test_refuses_with_too_little_history() -> None:
    result = forecast_total([50.0] * 6, actual_to_date=300.0, remaining_days=24)
    assert not result.ok
    assert result.point is None and result.low is None and result.high is None
    assert result.reason == "needs 7 days of history, has 6"


def test_complete_period_is_the_actual() -> None:
    result = forecast_total([], actual_to_date=1234.56, remaining_days=0)
    assert result.ok and result.method == "complete"
    assert (result.point, result.low, result.high) == (1234.56, 1234.56, 1234.56)


def test_exact_line_is_extrapolated_to_the_cent() -> None:
    series = linear(31)
    history = series[:20]
    result = forecast_total(history, sum(history), remaining_days=11)
    assert result.method == "trend"
    assert result.point == pytest.approx(sum(series), abs=0.005)
    # no noise, yet the level may still move on the 11 days to come (DRIFT): a few % wide
    assert result.low is not None and result.high is not None
    assert result.low < result.point < result.high
    assert 0.02 < (result.high - result.low) / sum(series) < 0.1


def test_interval_contains_the_truth_on_a_noisy_linear_series() -> None:
    rng = random.Random(7)
    series = [v + rng.gauss(0, 8) for v in linear(30)]
    history, future = series[:18], series[18:]
    result = forecast_total(history, sum(history), remaining_days=len(future))
    truth = sum(series)
    assert result.ok and result.low is not None and result.high is not None
    assert result.low < truth < result.high
    assert result.low < result.point < result.high  # type: ignore[operator]


def test_80_percent_interval_is_calibrated_on_months_with_steps() -> None:
    """The backtest of benchmarks/forecast_backtest.py, smaller: months with weekly cycles,
    noise and step changes, forecast as of days 7-25; about 80 % of the intervals hold the
    month-end (the issue's target: 70-90 %)."""
    outcomes = [o for case in synthetic(120, seed=11) for o in backtest(case)]
    coverage = sum(o.inside for o in outcomes) / len(outcomes)
    assert len(outcomes) == 120 * 19 and 0.70 <= coverage <= 0.90


def test_pure_noise_around_a_line_is_covered_conservatively() -> None:
    """Spend with no level change at all: the level-change allowance makes the interval wider
    than the noise alone needs, never narrower."""
    hits, trials = 0, 200
    for seed in range(trials):
        rng = random.Random(seed)
        series = [v + rng.gauss(0, 10) for v in linear(31, slope=1.0)]
        result = forecast_total(series[:21], sum(series[:21]), remaining_days=10)
        hits += result.low <= sum(series) <= result.high  # type: ignore[operator]
    assert hits / trials >= 0.8


def test_short_history_uses_the_level_not_a_slope() -> None:
    result = forecast_total([10.0, 12.0, 8.0, 10.0, 11.0, 9.0, 10.0], 70.0, remaining_days=3)
    assert result.method == "level"
    assert result.point == pytest.approx(100.0)


def test_remaining_spend_is_never_negative() -> None:
    falling = [100.0 - 10 * x for x in range(14)]  # heading below zero
    result = forecast_total(falling, 500.0, remaining_days=20)
    assert result.point == pytest.approx(500.0)
    assert result.low == pytest.approx(500.0)


@pytest.mark.parametrize(("p", "dof", "expected"), [(0.9, 10, 1.3722), (0.975, 5, 2.5706),
                                                     (0.9, 30, 1.3104)])
def test_t_quantile_matches_tables(p: float, dof: int, expected: float) -> None:
    assert t_quantile(p, dof) == pytest.approx(expected, abs=0.01)


def test_one_spike_day_widens_the_interval_but_does_not_tilt_the_line() -> None:
    history = [69.41] * 19 + [331.75]
    result = forecast_total(history, sum(history), remaining_days=11)
    assert round(result.point or 0, 2) == round(sum(history) + 11 * 69.41, 2) == 2414.05
    assert result.low < result.point < result.high  # type: ignore[operator]
    assert (result.high or 0) - (result.low or 0) > 1000  # the spike makes it less certain
