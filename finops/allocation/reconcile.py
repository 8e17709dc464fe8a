"""Step 9: conservation. Per (day, billing account), the bill's effective and billed cost
against the allocated rows that came from the bill (price_source bill / split-bill);
estimated rows (catalog/configured) are not on any invoice yet and are left out by design.
``difference`` is round(billed - allocated, 2), as in the ``reconciliation`` view.
"""

from __future__ import annotations

import polars as pl

from finops.allocation.rows import BILLED_SOURCES
from models.errors import ReconciliationError

KEYS = ["day", "billing_account_id"]


def reconcile(bill: pl.DataFrame, allocation: pl.DataFrame) -> pl.DataFrame:
    billed = bill.group_by(KEYS).agg(pl.col("effective_cost").sum().alias("b_eff"),
                                     pl.col("billed_cost").sum().alias("b_bill"))
    mine = allocation.filter(pl.col("price_source").is_in(BILLED_SOURCES)
                             | pl.col("price_source").is_null())
    allocated = mine.group_by(KEYS).agg(pl.col("effective_cost").sum().alias("a_eff"),
                                        pl.col("billed_cost").sum().alias("a_bill"))
    joined = billed.join(allocated, on=KEYS, how="full", coalesce=True, nulls_equal=True)
    filled = joined.with_columns(pl.col(c).fill_null(0.0) for c in ("b_eff", "b_bill", "a_eff",
                                                                   "a_bill"))
    return filled.select(
        *KEYS,
        pl.col("b_eff").round(2).alias("billed_effective_cost"),
        pl.col("a_eff").round(2).alias("allocated_effective_cost"),
        (pl.col("b_eff") - pl.col("a_eff")).round(2).alias("difference"),
        (pl.col("b_bill") - pl.col("a_bill")).round(2).alias("billed_cost_difference"),
    ).sort(KEYS, nulls_last=True)


def disagreements(reconciliation: pl.DataFrame) -> pl.DataFrame:
    return reconciliation.filter((pl.col("difference") != 0)
                                 | (pl.col("billed_cost_difference") != 0))


def check(reconciliation: pl.DataFrame) -> None:
    """Raise ``ReconciliationError`` listing every (day, account) that does not add up."""
    bad = disagreements(reconciliation)
    if not bad.height:
        return
    lines = [f"  {r['day']} {r['billing_account_id']}: billed {r['billed_effective_cost']:.2f}, "
             f"allocated {r['allocated_effective_cost']:.2f}, difference {r['difference']:.2f}"
             f" (billed_cost difference {r['billed_cost_difference']:.2f})"
             for r in bad.head(50).iter_rows(named=True)]
    more = f"\n  … and {bad.height - 50} more" if bad.height > 50 else ""
    raise ReconciliationError(
        f"allocation does not add up to the bill on {bad.height} (day, billing account) rows; "
        "nothing was written:\n" + "\n".join(lines) + more)
