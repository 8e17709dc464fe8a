"""expected_totals.json agrees, to the cent, with the files read independently."""

from __future__ import annotations

from pathlib import Path

import polars as pl

AWS_EFFECTIVE = """
    SELECT line_item_usage_account_id AS account,
           sum(line_item_unblended_cost) AS billed,
           sum(CASE line_item_line_item_type
                 WHEN 'SavingsPlanCoveredUsage' THEN savings_plan_savings_plan_effective_cost
                 WHEN 'SavingsPlanNegation' THEN 0
                 WHEN 'SavingsPlanRecurringFee'
                   THEN savings_plan_total_commitment_to_date - savings_plan_used_commitment
                 ELSE line_item_unblended_cost END) AS effective
    FROM cur GROUP BY 1 ORDER BY 1"""


def _account(totals: dict, provider: str) -> dict:
    return next(a for a in totals["billing_accounts"] if a["provider"] == provider)


def test_aws_totals(cur, totals: dict) -> None:
    expected = _account(totals, "aws")
    rows = cur.execute(AWS_EFFECTIVE).fetchall()
    assert [r[0] for r in rows] == sorted(expected["sub_accounts"])
    for account, billed, effective in rows:
        want = expected["sub_accounts"][account]
        assert round(billed, 2) == round(want["billed_cost"], 2)
        assert round(effective, 2) == round(want["effective_cost"], 2)
    assert round(sum(r[2] for r in rows), 2) == round(expected["effective_cost"], 2)
    assert cur.execute("SELECT count(*) FROM cur").fetchone()[0] == expected["rows"]


def test_gcp_totals(gcp: pl.DataFrame, totals: dict) -> None:
    expected = _account(totals, "gcp")
    credits = gcp["credits"].list.eval(pl.element().struct.field("amount")).list.sum()
    net = float(gcp["cost"].sum() + credits.sum())
    assert round(net, 2) == round(expected["effective_cost"], 2)
    assert gcp.height == expected["rows"]


def test_azure_totals(demo: Path, totals: dict) -> None:
    frame = pl.read_csv(demo / "azure" / "focus_2026-10.csv",
                        schema_overrides={"EffectiveCost": pl.Float64, "BilledCost": pl.Float64})
    expected = _account(totals, "azure")
    assert round(frame["EffectiveCost"].sum(), 2) == round(expected["effective_cost"], 2)
    assert round(frame["BilledCost"].sum(), 2) == round(expected["billed_cost"], 2)
