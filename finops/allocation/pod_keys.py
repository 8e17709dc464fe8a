"""A day of pod-hours as keys and facts: the strings once per pod, the numbers once per hour.

A pod runs ~24 hours a day, and each of its hourly rows repeats the same strings (cluster,
namespace, pod, node, workload, two label maps). Every later step groups or joins pod-hours
by those strings; hashing them once into ``_pk`` and keeping one ``attrs`` row per key turns
those steps into integer joins and group-bys over ``facts``, and string work over ``attrs``,
which has about 1/24 of the rows.

``_pk`` stands for everything that decides where a pod-hour's cost goes and who owns it: the
pod, its node and workload, its and its workload's label maps, and, in a namespace whose
labels or annotations change during the day, the hour, so every ``attrs`` row carries the
namespace values of its own hour (ownership follows labels as they were at that hour).
It is a 64-bit hash: the chance that two of a day's ~50,000 keys collide is about 1e-10.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from finops.allocation.ownership import NS_VALUES, namespace_values_by_hour, pod_values
from models.config import FinOpsConfig

IDENTITY = ["cluster", "namespace", "pod", "node", "workload_kind", "workload_name"]
MAPS = ["labels", "workload_labels"]
FACTS = ["running_seconds", "cpu_request", "cpu_usage", "memory_request", "memory_usage",
         "gpu_request", "network_bytes"]
ATTRS = [*IDENTITY, "pod_value", "workload_value", *NS_VALUES]


@dataclass(frozen=True)
class PodFrame:
    """``facts``: one row per pod-hour (``_pk``, ``hour``, FACTS); ``attrs``: one row per
    ``_pk`` (ATTRS: who the pod is, where it ran, its team values)."""

    facts: pl.DataFrame
    attrs: pl.DataFrame

    def attrs_of(self, *columns: str) -> pl.LazyFrame:
        return self.attrs.lazy().select("_pk", *columns)


def _changing(found: pl.DataFrame) -> pl.DataFrame:
    """(cluster, namespace) whose team values are not the same at every hour of the day."""
    counts = found.group_by("cluster", "namespace").agg(
        pl.struct(NS_VALUES).n_unique().alias("_n"))
    return counts.filter(pl.col("_n") > 1).select("cluster", "namespace")


def _key(pods: pl.DataFrame, changing: pl.DataFrame) -> pl.Series:
    # Hashing the strings and the maps apart, then the pair, costs less than one wide hash.
    key = pl.struct(pl.struct(IDENTITY).hash().alias("_i"), pl.struct(MAPS).hash().alias("_m"))
    if not changing.height:
        return pods.select(key.hash().alias("_pk")).to_series()
    salt = pods.select("cluster", "namespace").join(
        changing.with_columns(pl.lit(True).alias("_salt")), on=["cluster", "namespace"],
        how="left", maintain_order="left", nulls_equal=True).get_column("_salt")
    hourly = pl.struct(key, pl.col("hour")).hash()
    return pods.with_columns(salt).select(
        pl.when(pl.col("_salt")).then(hourly).otherwise(key.hash()).alias("_pk")).to_series()


def key_pods(pods: pl.DataFrame, namespaces: pl.DataFrame, config: FinOpsConfig) -> PodFrame:
    """Split pod-hours into facts and attrs (pod, workload and namespace team values)."""
    found = namespace_values_by_hour(pods, namespaces, config)
    keyed = pods.with_columns(_key(pods, _changing(found)))
    first = keyed.select("_pk", *IDENTITY, "hour", *MAPS).filter(
        pl.col("_pk").is_first_distinct())
    attrs = pod_values(first, config).join(found, on=["cluster", "namespace", "hour"],
                                           how="left", nulls_equal=True)
    return PodFrame(keyed.select("_pk", "hour", *FACTS), attrs.select("_pk", *ATTRS))
