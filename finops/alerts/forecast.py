"""Forecast a period's total spend, with a prediction interval, or refuse honestly.

Method (pure Python, no I/O):

1. History is the daily spend series the caller hands in: the last ``lookback_days`` days
   up to the last day with data (it may reach back into the previous period, which is what
   lets a month forecast start before the month is two weeks old). Days without rows inside
   the warehouse's data range must be passed as zeros; days before it must be left out.
2. Fewer than ``min_days`` days of history: no forecast (``ok=False`` and a reason). AWS
   Cost Explorer also refuses rather than guess from a few days.
3. The model is a line on the day index: a *trend* (Theil-Sen: median of pairwise slopes,
   median intercept, so one spike day does not tilt the forecast) when there are at least
   ``trend_min_days`` days, otherwise a *level* (the mean), because a slope fitted on a week
   of data extrapolates noise.
4. The remaining days of the period are predicted and summed. The interval is that of a
   *local level* view of spend: besides the day-to-day noise of the fitted line (``s``, the
   residual standard error; the least-squares term ``s^2 (h + c' (X'X)^-1 c)`` with ``h``
   the remaining days and ``c`` the sum of their design vectors), the level itself may move
   on any day still to come (a deployment, a new node pool, a cleanup). A level that moves by
   a random step of variance ``q`` each day adds ``q * h(h+1)(2h+1)/6`` to the variance of
   the remaining sum. ``q`` is estimated from the history (the local level model's moments:
   ``Var(d) + 2 Cov(d_t, d_t-1)`` of the daily differences ``d``) but never below
   ``(drift * level)^2``: a month that happened to be flat so far says little about the
   days after it. ``drift`` (``DRIFT``) is calibrated by the backtest in
   ``benchmarks/forecast_backtest.py`` so that the 80 % interval (Student's ``t`` quantile,
   like Cost Explorer's 80 %) holds the month-end 70-90 % of the time over the demo and over
   synthetic months with step changes (figures in ``benchmarks/README.md``). A spike in the
   history widens the interval (larger ``s``) instead of moving the point forecast.
5. Spend still to come cannot be negative: the predicted remainder and the interval's low
   end are clamped at zero, so the forecast never falls below the actual to date.

The forecast total = actual to date (what was really spent in the period) + the remainder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist, median

# The least daily movement of the level assumed for the days still to come, as a fraction of
# the level (see 4. above; calibrated by benchmarks/forecast_backtest.py).
DRIFT = 0.025


@dataclass(frozen=True)
class Forecast:
    ok: bool
    point: float | None  # forecast period total (actual to date + predicted remainder)
    low: float | None
    high: float | None
    level: float
    method: str  # "trend" | "level" | "complete" | "none"
    history_days: int
    remaining_days: int
    reason: str | None = None  # why there is no forecast

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok, "point": self.point, "low": self.low, "high": self.high,
            "level": self.level, "method": self.method, "history_days": self.history_days,
            "remaining_days": self.remaining_days, "reason": self.reason,
        }


def t_quantile(p: float, dof: int) -> float:
    """Student's t quantile (Cornish-Fisher expansion of the normal one; < 1 % off for dof>=3)."""
    z = NormalDist().inv_cdf(p)
    if dof <= 0:
        return math.inf
    n = float(dof)
    return (
        z
        + (z**3 + z) / (4 * n)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * n**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * n**3)
    )


def _fit(values: Sequence[float], trend: bool) -> tuple[list[float], list[list[float]], float]:
    """Coefficients, (X'X)^-1 and residual variance of the line through x = 0..n-1."""
    n = len(values)
    xs = range(n)
    if not trend:
        mean = sum(values) / n
        rss = sum((v - mean) ** 2 for v in values)
        return [mean], [[1.0 / n]], rss / max(n - 1, 1)
    sx, sxx = float(sum(xs)), float(sum(x * x for x in xs))
    det = n * sxx - sx * sx
    inv = [[sxx / det, -sx / det], [-sx / det, n / det]]
    # Theil-Sen: the median of pairwise slopes, so one spike day does not tilt the line
    slope = median((values[j] - values[i]) / (j - i) for i in range(n) for j in range(i + 1, n))
    intercept = median(v - slope * x for x, v in zip(xs, values, strict=True))
    rss = sum((v - intercept - slope * x) ** 2 for x, v in zip(xs, values, strict=True))
    return [intercept, slope], inv, rss / max(n - 2, 1)


def _quad(c: list[float], inv: list[list[float]]) -> float:
    return sum(c[i] * inv[i][j] * c[j] for i in range(len(c)) for j in range(len(c)))


def level_variance(values: Sequence[float], drift: float) -> float:
    """``q``: the variance of the level's daily step (local level model, method of moments
    on the daily differences), at least ``(drift * recent level)^2``."""
    diffs = [b - a for a, b in zip(values, values[1:], strict=False)]
    recent = abs(sum(values[-7:]) / len(values[-7:]))
    floor = (drift * recent) ** 2
    if len(diffs) < 3:
        return floor
    mean = sum(diffs) / len(diffs)
    var = sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1)
    lag = sum((a - mean) * (b - mean) for a, b in zip(diffs, diffs[1:], strict=False))
    return max(var + 2 * lag / (len(diffs) - 1), floor)


def forecast_total(history: Sequence[float], actual_to_date: float, remaining_days: int, *,
                   min_days: int = 7, trend_min_days: int = 14,
                   level: float = 0.8, drift: float = DRIFT) -> Forecast:
    """Forecast the period total from daily ``history`` (oldest first, ending at the last
    day with data) and the days left in the period after it."""
    n = len(history)
    if remaining_days <= 0:
        return Forecast(True, actual_to_date, actual_to_date, actual_to_date, level,
                        "complete", n, 0)
    if n < min_days:
        return Forecast(False, None, None, None, level, "none", n, remaining_days,
                        f"needs {min_days} days of history, has {n}")
    trend = n >= trend_min_days
    coef, inv, variance = _fit(history, trend)
    future = range(n, n + remaining_days)
    c = [float(remaining_days)] + ([float(sum(future))] if trend else [])
    remainder = sum(ci * bi for ci, bi in zip(c, coef, strict=True))
    dof = n - len(coef)
    h = remaining_days
    spread = variance * (h + _quad(c, inv)) + level_variance(history, drift) * h * (h + 1) * (
        2 * h + 1) / 6
    half = t_quantile(0.5 + level / 2, dof) * math.sqrt(spread)
    return Forecast(
        ok=True,
        point=actual_to_date + max(remainder, 0.0),
        low=actual_to_date + max(remainder - half, 0.0),
        high=actual_to_date + max(remainder + half, 0.0),
        level=level,
        method="trend" if trend else "level",
        history_days=n,
        remaining_days=remaining_days,
    )
