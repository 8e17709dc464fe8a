"""Backtest of the budget forecast (issue 15): does the "80 %" interval hold the month-end
70-90 % of the time, and how far is the point forecast from the actual month-end compared
with a plain run-rate?

``python -m benchmarks.forecast_backtest [--db PUBLISHED.duckdb] [--months 400] [--seed 7]``

Two sets, each forecast as of days 7-25 of the month exactly as ``finops budgets check`` does
(``finops.alerts.forecast.forecast_total`` on the daily series from the 1st to the as-of day):

- **demo**: every team of the demo warehouse and its unowned spend, October 2026 (``--db``: a
  published snapshot; without it the demo is built into a temporary directory with
  ``finops demo --no-serve``, about a minute).
- **synthetic**: ``--months`` generated months (seeded): a level between 2 and 500 a day, a
  weekly cycle, day-to-day noise of 0.5-6 %, a slow trend in some, and in 60 % of them one or
  two step changes of 10-50 % up or down on a random day (a launch, a cleanup, a new node
  pool), sometimes before the as-of day and sometimes after it.

Prints coverage (share of intervals holding the actual month-end), the median interval width
relative to the month, and MAPE of the forecast and of the run-rate (``spent / days so far *
days in month``), overall and by as-of day band; ``--json`` writes them.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from finops.alerts.forecast import forecast_total

AS_OF_DAYS = range(7, 26)
BANDS = ((7, 12), (13, 19), (20, 25))


@dataclass(frozen=True)
class Case:
    name: str
    days: list[float]  # spend per day of one whole month


@dataclass(frozen=True)
class Outcome:
    as_of: int
    inside: bool
    width: float  # interval width / actual month total
    error: float  # |forecast - actual| / actual
    run_rate_error: float


def backtest(case: Case) -> list[Outcome]:
    total = sum(case.days)
    out = []
    for d in AS_OF_DAYS:
        history = case.days[:d]
        spent = sum(history)
        result = forecast_total(history, spent, len(case.days) - d)
        assert result.point is not None and result.low is not None and result.high is not None
        run_rate = spent / d * len(case.days)
        out.append(Outcome(d, result.low <= total <= result.high,
                           (result.high - result.low) / total,
                           abs(result.point - total) / total, abs(run_rate - total) / total))
    return out


def synthetic(n: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    return [_month(rng, i) for i in range(n)]


def _month(rng: random.Random, i: int) -> Case:
    length = rng.choice((30, 31))
    level = rng.uniform(2, 500)
    weekly = rng.uniform(0, 0.08)
    noise = rng.uniform(0.005, 0.06)
    trend = rng.choice((0.0, 0.0, rng.uniform(-0.004, 0.006)))
    steps = ([(rng.randrange(2, length), rng.choice((-1, 1)) * rng.uniform(0.1, 0.5))
              for _ in range(rng.choice((1, 1, 2)))] if rng.random() < 0.6 else [])
    days = []
    for day in range(length):
        scale = 1 + trend * day + sum(size for at, size in steps if day >= at)
        cycle = 1 - weekly if day % 7 in (5, 6) else 1 + weekly * 2 / 5
        days.append(max(level * scale * cycle * (1 + rng.gauss(0, noise)), 0.0))
    return Case(f"synthetic-{i}", days)


def demo(db: Path | None) -> list[Case]:
    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        if db is None:
            built = Path(tmp) / "finops.duckdb"
            subprocess.run([sys.executable, "-m", "finops", "--db", str(built), "demo",
                            "--no-serve"], check=True, capture_output=True)
            db = built.with_name("finops.published.duckdb")
        con = duckdb.connect(str(db), read_only=True)
        rows = con.execute(
            "SELECT coalesce(team, '(unowned)'), day, sum(effective_cost) FROM allocation "
            "GROUP BY ALL ORDER BY 1, 2").fetchall()
        con.close()
    series: dict[str, list[float]] = {}
    for team, _, cost in rows:
        series.setdefault(team, []).append(float(cost))
    return [Case(f"demo-{team}", days) for team, days in series.items()]


def summary(outcomes: list[Outcome]) -> dict[str, float]:
    n = len(outcomes)
    return {"n": n, "coverage": sum(o.inside for o in outcomes) / n,
            "median_width": median(o.width for o in outcomes),
            "mape": sum(o.error for o in outcomes) / n,
            "run_rate_mape": sum(o.run_rate_error for o in outcomes) / n}


def report(name: str, cases: list[Case]) -> dict[str, dict[str, float]]:
    outcomes = [o for case in cases for o in backtest(case)]
    parts = {"all": summary(outcomes)}
    for low, high in BANDS:
        parts[f"days {low}-{high}"] = summary([o for o in outcomes if low <= o.as_of <= high])
    print(f"{name} ({len(cases)} months, as of days 7-25)")
    print(f"  {'as of':<12}{'n':>6}{'coverage':>10}{'width':>9}{'MAPE':>9}{'run-rate':>10}")
    for label, s in parts.items():
        print(f"  {label:<12}{s['n']:>6}{s['coverage']:>10.1%}{s['median_width']:>9.1%}"
              f"{s['mape']:>9.2%}{s['run_rate_mape']:>10.2%}")
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.forecast_backtest")
    parser.add_argument("--db", type=Path, help="a published demo snapshot (default: build one)")
    parser.add_argument("--months", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    results = {"demo": report("demo", demo(args.db)),
               "synthetic": report("synthetic", synthetic(args.months, args.seed))}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
