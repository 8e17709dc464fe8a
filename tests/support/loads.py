"""Tiny loads of ``cost_line`` for the warehouse and pipeline tests: a bill of one account
and period, the run that loads it, what the table holds per account afterwards."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from finops.warehouse import Warehouse
from models.loads import IngestRun, new_run_id

PERIOD_KEYS = ("x_source", "billing_account_id", "billing_period_start")


def bill(account: str, costs: list[float]) -> pl.DataFrame:
    """Hourly lines of ``account`` in the October 2026 billing period, one per cost."""
    n = len(costs)
    return pl.DataFrame({
        "billing_account_id": [account] * n,
        "billing_period_start": [datetime(2026, 10, 1)] * n,
        "charge_period_start": [datetime(2026, 10, 1, h) for h in range(n)],
        "charge_period_end": [datetime(2026, 10, 1, h + 1) for h in range(n)],
        "effective_cost": costs,
        "x_source": ["aws-cur"] * n,
        "tags": [[{"key": "user:team", "value": "payments"}]] * n,
    })


def bill_run() -> IngestRun:
    return IngestRun(new_run_id("test"), "aws-cur", datetime(2026, 10, 1), None, ["f.parquet"])


def totals(wh: Warehouse) -> dict[str, float]:
    """Effective cost per billing account in ``cost_line``."""
    frame = wh.frame(
        "SELECT billing_account_id, sum(effective_cost) AS c FROM cost_line GROUP BY 1"
    )
    return dict(zip(frame["billing_account_id"], frame["c"], strict=True))
