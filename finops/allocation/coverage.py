"""Quota findings: a team whose ResourceQuotas, fully used, would cost more than its budget.

Input: the ``quota_coverage`` view as a frame; budgets come from ``finops.yaml`` (they are not
in the warehouse). Budgets are normalised to a month (week x 730/168, quarter / 3).
"""

from __future__ import annotations

import polars as pl

from models.config import FinOpsConfig

PER_MONTH = {"month": 1.0, "week": 730.0 / 168.0, "quarter": 1.0 / 3.0}


def quota_findings(quota_coverage: pl.DataFrame, config: FinOpsConfig) -> pl.DataFrame:
    """Per team: quota monthly cost, monthly budget, and ``finding`` when quota > budget."""
    budgets = pl.DataFrame(
        [{"team": b.team, "budget_monthly": b.amount * PER_MONTH[b.period]}
         for b in config.budgets if b.team],
        schema={"team": pl.String, "budget_monthly": pl.Float64},
    ).group_by("team").agg(pl.col("budget_monthly").sum())
    quota = quota_coverage.filter(pl.col("team").is_not_null()).group_by("team").agg(
        pl.col("quota_monthly_cost").cast(pl.Float64).sum())
    joined = quota.join(budgets, on="team", how="left")
    return joined.with_columns(
        (pl.col("quota_monthly_cost") > pl.col("budget_monthly")).fill_null(False)
        .alias("finding")).sort("team")
