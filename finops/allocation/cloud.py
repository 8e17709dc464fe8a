"""Steps 7-8: spend outside Kubernetes, taxes, credits and commitments (one partition a day).

Cloud lines are owned by their tags, then by account/project/subscription mappings; the rest
is unowned (``untagged-resource``; ``unmapped-account`` when the line names no resource;
``unknown-team`` when a tag names no team). Unused commitments are ``unused-commitment``;
commitment purchases (amortized into usage, so their effective cost is usually 0 while the
billed cost is the invoice amount) are ``commitment-purchase``. Taxes and credits are
``unattributed-tax-or-credit`` unless ``allocation.tax_and_credits = follow-spend``: then
``finalize_day`` spreads them over that day's spend of the same billing account, in
proportion to effective cost (``shared_from = tax|credit``).
"""

from __future__ import annotations

import polars as pl

from finops.allocation.inputs import MONEY
from finops.allocation.ownership import resolve_cloud
from finops.allocation.rows import concat_rows
from models.config import FinOpsConfig

TAXLIKE = ("tax", "credit")
FOLLOW = ["cluster", "namespace", "team", "owner_rule", "unowned_reason", "provider",
          "sub_account_id"]


def cloud_rows(lines: pl.DataFrame, config: FinOpsConfig) -> pl.DataFrame:
    """Rows of the non-cluster partition of one day."""
    if not lines.height:
        return concat_rows([])
    lines = lines.with_columns(pl.lit("bill").alias("price_source"))
    plain = resolve_cloud(lines.filter(pl.col("_target") == "cloud"), config)
    plain = plain.with_columns(pl.lit("cloud").alias("cost_kind"))
    unused = pl.col("commitment_discount_status").str.to_lowercase() == "unused"
    commit = lines.filter(pl.col("_target") == "commitment").with_columns(
        pl.lit("commitment").alias("cost_kind"),
        pl.when(unused.fill_null(False)).then(pl.lit("unused-commitment"))
        .otherwise(pl.lit("commitment-purchase")).alias("unowned_reason"))
    taxes = lines.filter(pl.col("_target").is_in(TAXLIKE)).with_columns(
        pl.col("_target").alias("cost_kind"),
        pl.lit("unattributed-tax-or-credit").alias("unowned_reason"))
    return concat_rows([plain, commit, taxes])


def finalize_day(rows: pl.DataFrame, config: FinOpsConfig) -> pl.DataFrame:
    """Day-level pass over all partitions: taxes and credits follow spend when configured."""
    if config.allocation.tax_and_credits != "follow-spend" or not rows.height:
        return rows
    is_tax = pl.col("cost_kind").is_in(TAXLIKE) & pl.col("team").is_null()
    taxes, rest = rows.filter(is_tax), rows.filter(~is_tax)
    if not taxes.height:
        return rows
    spend = rest.filter(pl.col("billing_account_id").is_not_null()
                        & (pl.col("effective_cost") > 0)).group_by(
        "billing_account_id", *FOLLOW).agg(pl.col("effective_cost").sum().alias("_w"))
    pooled = taxes.group_by("day", "billing_account_id", "cost_kind", "price_source",
                            pl.col("provider").alias("_tax_provider")).agg(
        [pl.col(m).sum() for m in MONEY])
    joined = pooled.join(spend, on="billing_account_id", how="inner")
    total = pl.col("_w").sum().over("day", "billing_account_id", "cost_kind", "price_source",
                                    "_tax_provider")
    out = joined.with_columns(
        [(pl.col(m) * (pl.col("_w") / total)).alias(m) for m in MONEY]
    ).with_columns(pl.col("cost_kind").alias("shared_from"),
                   pl.col("_tax_provider").alias("provider"))
    left = taxes.join(spend.select("billing_account_id").unique(), on="billing_account_id",
                      how="anti", nulls_equal=True)
    return concat_rows([rest, out, left])
