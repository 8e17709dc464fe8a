"""Quota ceilings: the most a month can cost in a namespace, from its ResourceQuota.

A namespace's unit prices are what its pods paid per allocated core-hour, GiB-hour and
GPU-hour in the window: the engine prices a pod at its node's resource cost over the node's
capacity, so this is the unit cost of the nodes it ran on, weighted by where it ran. A
namespace without pod cost in the window takes its cluster's average.

The quota's hard limits bound what its pods may request: per ResourceQuota the largest of a
resource's keys (``requests.cpu``, ``limits.cpu``, ``cpu``), per namespace the smallest over
its quotas. Ceiling = (hard cpu x cpu price + hard GiB x ram price + hard GPUs x gpu price)
x the hours of the month. A namespace whose quotas do not bound CPU and memory has no ceiling
(null): it is unbounded, as if it had no quota.
"""

from __future__ import annotations

import polars as pl

KEYS = ["cluster", "namespace"]
RESOURCE_KEYS = {
    "cpu": ("cpu", "requests.cpu", "limits.cpu"),
    "memory": ("memory", "requests.memory", "limits.memory"),
    "gpu": ("requests.nvidia.com/gpu", "limits.nvidia.com/gpu"),
}
GIB = 1024.0**3
PRICES = {"cpu": ("cpu_cost", "cpu_hours"), "ram": ("ram_cost", "ram_gib_hours"),
          "gpu": ("gpu_cost", "gpu_hours")}


def quota_limits(quotas: pl.DataFrame) -> pl.DataFrame:
    """cluster, namespace, hard_cpu (cores), hard_memory (bytes), hard_gpu: null where no
    quota of the namespace limits the resource."""
    per_quota = quotas.group_by([*KEYS, "quota"]).agg(
        pl.col("hard").filter(pl.col("resource").is_in(keys)).max().alias(f"hard_{name}")
        for name, keys in RESOURCE_KEYS.items())
    return per_quota.group_by(KEYS).agg(
        pl.col(f"hard_{name}").min() for name in RESOURCE_KEYS).sort(KEYS)


def _ratio(cost: str, amount: str) -> pl.Expr:
    return pl.when(pl.col(amount) > 0).then(pl.col(cost) / pl.col(amount)).otherwise(None)


def cluster_prices(cost: pl.DataFrame, hours: pl.DataFrame) -> pl.DataFrame:
    """cluster, cpu_price, ram_price, gpu_price: the cluster's average unit prices."""
    both = _both(cost, hours).group_by("cluster").agg(pl.exclude("namespace").sum())
    return both.select("cluster", *[_ratio(c, a).alias(f"{k}_price")
                                    for k, (c, a) in PRICES.items()])


def _both(cost: pl.DataFrame, hours: pl.DataFrame) -> pl.DataFrame:
    return hours.join(cost, on=KEYS, how="full", coalesce=True).fill_null(0.0)


def unit_prices(cost: pl.DataFrame, hours: pl.DataFrame) -> pl.DataFrame:
    """cluster, namespace, cpu_price, ram_price, gpu_price (per core-, GiB-, GPU-hour), from
    ``reads.resource_cost`` and ``reads.resource_hours``: each namespace's own where it has
    any, else its cluster's (a namespace that ran nothing has a row only in
    ``cluster_prices``)."""
    own = _both(cost, hours).select(
        *KEYS, *[_ratio(c, a).alias(f"{k}_price") for k, (c, a) in PRICES.items()])
    return _fill(own, cluster_prices(cost, hours))


def _fill(frame: pl.DataFrame, cluster: pl.DataFrame) -> pl.DataFrame:
    """Null prices of ``frame`` taken from the cluster's."""
    joined = frame.join(cluster, on="cluster", how="left", suffix="_cluster")
    return joined.with_columns(
        pl.coalesce(f"{k}_price", f"{k}_price_cluster").alias(f"{k}_price") for k in PRICES
    ).drop([f"{k}_price_cluster" for k in PRICES])


def ceilings(limits: pl.DataFrame, prices: pl.DataFrame, cluster: pl.DataFrame,
             month_hours: float) -> pl.DataFrame:
    """``limits`` with their unit prices (``unit_prices``, else the ``cluster_prices``) and
    ``ceiling``: the most a month of ``month_hours`` hours can cost (null: unbounded or
    unpriced)."""
    priced = _fill(limits.join(prices, on=KEYS, how="left"), cluster)
    hourly = (pl.col("hard_cpu") * pl.col("cpu_price")
              + pl.col("hard_memory") / GIB * pl.col("ram_price")
              + pl.col("hard_gpu").fill_null(0.0) * pl.col("gpu_price").fill_null(0.0))
    return priced.with_columns((hourly * month_hours).alias("ceiling"))
