"""Steps 1-2: node cost per hour (bill, else catalog, else configured), split into CPU/RAM/GPU.

A node's daily bill is spread over the hours it ran that day (by running seconds). Nodes with
no bill line that day (the bill lags a day or two) are priced from ``price_catalog``
(instance type + region, newest price in effect), then ``allocation.prices.instance_hour``,
then the reference prices themselves (cores x CPU price + GiB x RAM price + GPUs x GPU price,
OpenCost's custom-pricing default). Those estimates carry ``price_source`` catalog/configured,
no billing account and a billed cost of 0: they are not on any invoice yet, so the
``reconciliation`` view leaves them out by design.

The split into resources keeps the *ratio* of the reference prices and scales it to the node's
cost (OpenCost's spec, Appendix A): share_r = capacity_r x price_r / sum over resources.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from finops.allocation.inputs import MONEY
from models.config import FinOpsConfig

GIB = 1024.0**3
RESOURCES = ("cpu", "ram", "gpu")


def _ref_prices(nodes: pl.DataFrame, config: FinOpsConfig) -> pl.DataFrame:
    """Reference prices per node: defaults, overridden by ``prices.by_node_label`` matches."""
    prices = config.allocation.prices
    base = {"cpu": prices.cpu_hour, "ram": prices.ram_gib_hour, "gpu": prices.gpu_hour}
    distinct = nodes.select("cluster", "node", "labels").unique(["cluster", "node"])
    exprs = {r: pl.lit(v) for r, v in base.items()}
    for selector, override in prices.by_node_label.items():  # later entries win
        key, _, value = selector.partition("=")
        has = pl.col("labels").list.eval(
            (pl.element().struct.field("key") == key)
            & (pl.element().struct.field("value") == value)).list.any()
        for resource in RESOURCES:
            price = override.get(f"{resource}_hour", override.get(f"{resource}_gib_hour"))
            if price is not None:
                exprs[resource] = pl.when(has).then(pl.lit(price)).otherwise(exprs[resource])
    return distinct.select("cluster", "node", *[e.alias(f"_p_{r}") for r, e in exprs.items()])


def node_hours(nodes: pl.DataFrame, config: FinOpsConfig) -> pl.DataFrame:
    """One row per (cluster, node, hour): capacity resource-hours, resource shares, hour share."""
    running = pl.col("running_seconds").fill_null(3600.0).clip(0, 3600.0)
    frame = nodes.join(_ref_prices(nodes, config), on=["cluster", "node"], how="left")
    frame = frame.with_columns(
        (pl.col("capacity_cpu").fill_null(0) * running / 3600).alias("_rh_cpu"),
        (pl.col("capacity_memory").fill_null(0) / GIB * running / 3600).alias("_rh_ram"),
        (pl.col("capacity_gpu").fill_null(0) * running / 3600).alias("_rh_gpu"),
        running.alias("_run"),
    )
    value = [(pl.col(f"_rh_{r}") * pl.col(f"_p_{r}")).alias(f"_v_{r}") for r in RESOURCES]
    frame = frame.with_columns(value)
    total_v = pl.sum_horizontal([f"_v_{r}" for r in RESOURCES])
    shares = [pl.when(total_v > 0).then(pl.col(f"_v_{r}") / total_v).otherwise(0.0)
              .alias(f"_s_{r}") for r in RESOURCES]
    day_run = pl.col("_run").sum().over("cluster", "node")
    hour_share = pl.when(day_run > 0).then(pl.col("_run") / day_run).otherwise(
        1.0 / pl.len().over("cluster", "node"))
    return frame.with_columns(*shares, total_v.alias("_ref_value"), hour_share.alias("_h")
                              ).with_row_index("_nh")


def node_day_weights(hours: pl.DataFrame) -> pl.DataFrame:
    """Per node-day (of ``node_hours``): the reference value of what ran (splits one bill
    line across nodes)."""
    return hours.group_by("cluster", "node").agg(
        pl.col("provider_id").drop_nulls().first(),
        pl.col("_ref_value").sum().alias("_w"),
    )


def _provider(provider_id: pl.Expr) -> pl.Expr:
    scheme = provider_id.str.extract(r"^([a-z]+)://")
    return scheme.replace_strict({"aws": "AWS", "gce": "Google Cloud", "azure": "Microsoft"},
                                 default=None)


def _catalog_prices(catalog: pl.DataFrame, day: date) -> pl.DataFrame:
    """Newest instance price in effect on ``day`` per (instance type, region, spot)."""
    cat = catalog.filter((pl.col("resource") == "instance")
                         & (pl.col("effective_from").is_null()
                            | (pl.col("effective_from").dt.date() <= day)))
    cat = cat.with_columns(pl.col("spot").fill_null(False))
    return cat.sort("effective_from", nulls_last=False).group_by(
        "instance_type", "region", "spot").agg(pl.col("price").last().alias("_cat_price"))


def estimated_pools(hours: pl.DataFrame, billed_nodes: pl.DataFrame, catalog: pl.DataFrame,
                    config: FinOpsConfig, day: date) -> pl.DataFrame:
    """Pools for nodes the bill does not cover that day: catalog, else configured prices."""
    unbilled = hours.join(billed_nodes.select("cluster", "node").unique(),
                          on=["cluster", "node"], how="anti")
    if not unbilled.height:
        return pl.DataFrame()
    configured = config.allocation.prices.instance_hour
    cfg = pl.col("instance_type").replace_strict(configured, default=None,
                                                 return_dtype=pl.Float64)
    with_cat = unbilled.with_columns(pl.col("spot").fill_null(False)).join(
        _catalog_prices(catalog, day), on=["instance_type", "region", "spot"], how="left")
    per_hour = pl.coalesce(pl.col("_cat_price"), cfg)
    source = pl.when(pl.col("_cat_price").is_not_null()).then(pl.lit("catalog")).otherwise(
        pl.lit("configured"))
    cost = pl.coalesce(per_hour * pl.col("_run") / 3600, pl.col("_ref_value"))
    priced = with_cat.with_columns(cost.alias("_cost"), source.alias("price_source"))
    pools = priced.group_by("cluster", "node", "price_source").agg(
        pl.col("_cost").sum().alias("effective_cost"),
        pl.col("provider_id").drop_nulls().first(),
    )
    return pools.with_columns(
        pl.col("effective_cost").alias("list_cost"), pl.lit(0.0).alias("billed_cost"),
        _provider(pl.col("provider_id")).alias("provider"),
        pl.col("provider_id").alias("resource_id"),
        pl.lit(None, pl.String).alias("billing_account_id"),
        pl.lit(None, pl.String).alias("sub_account_id"),
    ).drop("provider_id")


POOL_KEYS = ["cluster", "node", "provider", "billing_account_id", "sub_account_id",
             "resource_id", "price_source"]


def billed_pools(node_lines: pl.DataFrame) -> pl.DataFrame:
    """Node-day pools from the bill (all lines routed to the node, summed per account)."""
    return node_lines.with_columns(pl.lit("bill").alias("price_source")).group_by(
        POOL_KEYS).agg([pl.col(m).sum() for m in MONEY])
