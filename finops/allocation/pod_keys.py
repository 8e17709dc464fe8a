"""A day of pod-hours as the engine's ``PodFrame``: keyed pod-hours (``pod_hours.PodHours``)
with each key's team values (pod label, workload label, namespace label and annotation).

Every later step groups or joins pod-hours by who the pod is and where it ran; the key
``_pk`` turns those steps into integer joins and group-bys over ``facts``, and string work
over ``attrs``, which has about 1/24 of the rows.

``_pk`` stands for everything that decides where a pod-hour's cost goes and who owns it: the
pod, its node and workload, its and its workload's label maps, and, in a namespace whose
labels or annotations change during the day, the hour, so every ``attrs`` row carries the
namespace values of its own hour (ownership follows labels as they were at that hour).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from finops.allocation.ownership import NS_VALUES, namespace_values_by_hour, pod_values
from finops.allocation.pod_hours import FACTS, IDENTITY, PodHours
from models.config import FinOpsConfig

ATTRS = [*IDENTITY, "pod_value", "workload_value", *NS_VALUES]
NS = ["cluster", "namespace"]


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
    counts = found.group_by(NS).agg(pl.struct(NS_VALUES).n_unique().alias("_n"))
    return counts.filter(pl.col("_n") > 1).select(NS)


def _salted(pods: PodHours, changing: pl.DataFrame) -> PodHours:
    """Keys of pods in ``changing`` namespaces made hourly: one key per (key, hour), its
    attrs at that hour."""
    moving = pods.attrs.join(changing, on=NS, how="semi").get_column("_pk")
    if not moving.len():
        return pods
    is_moving = pl.col("_pk").is_in(moving.implode())
    hourly = pl.struct("_pk", "hour").hash()
    facts = pods.facts.with_columns(pl.when(is_moving).then(hourly).otherwise(pl.col("_pk"))
                                    .alias("_pk"))
    keys = pods.facts.filter(is_moving).select("_pk", "hour").unique().with_columns(
        hourly.alias("_new"))
    moved = keys.join(pods.attrs.drop("hour"), on="_pk").with_columns(
        pl.col("_new").alias("_pk")).drop("_new")
    attrs = pl.concat([pods.attrs.filter(~is_moving), moved.select(pods.attrs.columns)])
    return PodHours(facts, attrs)


def key_pods(pods: PodHours | pl.DataFrame, namespaces: pl.DataFrame,
             config: FinOpsConfig) -> PodFrame:
    """Facts and attrs with team values (pod, workload and namespace as of each key's
    hour); a frame of pod-hours is keyed first (``PodHours.of``)."""
    keyed = pods if isinstance(pods, PodHours) else PodHours.of(pods)
    hours = keyed.facts.get_column("hour").unique().to_frame()
    # Every namespace with pods at every hour of the day: a superset of the keys' own
    # (namespace, hour) pairs, found without a pass over the pod-hours' strings.
    probe = keyed.attrs.select(NS).unique().join(hours, how="cross")
    found = namespace_values_by_hour(probe, namespaces, config)
    keyed = _salted(keyed, _changing(found))
    attrs = pod_values(keyed.attrs, config).join(found, on=[*NS, "hour"], how="left",
                                                 nulls_equal=True)
    return PodFrame(keyed.facts.select("_pk", "hour", *FACTS), attrs.select("_pk", *ATTRS))
