"""A day of pod-hours split by pod key: the numbers once per hour, the strings once per key.

A pod runs ~24 hours a day, and each of its hourly rows repeats the same strings (cluster,
namespace, pod, node, workload, two label maps). ``PodHours`` keeps ``facts`` (one row per
pod-hour: ``_pk``, ``hour``, FACTS) and ``attrs`` (one row per ``_pk``: IDENTITY, MAPS and the
first ``hour`` of the key), where ``_pk`` is a 64-bit hash of IDENTITY and MAPS: the chance
that two of a day's ~50,000 keys collide is about 1e-10.

The pipeline has DuckDB make it while reading (the hash over its own columns, the strings and
label maps handed over once per key instead of once per hour); ``PodHours.of`` makes the same
from a frame of pod-hours (tests, in-memory callers). Which hash made ``_pk`` does not matter:
it only groups. ``pod_keys.key_pods`` turns it into the engine's ``PodFrame``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

IDENTITY = ["cluster", "namespace", "pod", "node", "workload_kind", "workload_name"]
MAPS = ["labels", "workload_labels"]
FACTS = ["running_seconds", "cpu_request", "cpu_usage", "memory_request", "memory_usage",
         "gpu_request", "network_bytes"]


def _hash_key() -> pl.Expr:
    # Hashing the strings and the maps apart, then the pair, costs less than one wide hash.
    return pl.struct(pl.struct(IDENTITY).hash().alias("_i"),
                     pl.struct(MAPS).hash().alias("_m")).hash().alias("_pk")


@dataclass(frozen=True)
class PodHours:
    """``facts``: ``_pk``, ``hour``, FACTS per pod-hour; ``attrs``: ``_pk``, ``hour`` (the
    key's first), IDENTITY, MAPS per key."""

    facts: pl.DataFrame
    attrs: pl.DataFrame

    @classmethod
    def of(cls, pods: pl.DataFrame) -> PodHours:
        """Key a frame of pod-hours (``k8s_pod_hour`` columns) in Polars."""
        keyed = pods.with_columns(_hash_key())
        attrs = keyed.group_by("_pk", maintain_order=True).agg(
            pl.col("hour").min(), *[pl.col(c).first() for c in (*IDENTITY, *MAPS)])
        return cls(keyed.select("_pk", "hour", *FACTS), attrs)

    def for_keys(self, attrs: pl.DataFrame) -> PodHours:
        """The pod-hours of the keys in ``attrs`` (a filtered ``self.attrs``)."""
        keys = attrs.get_column("_pk").implode()
        return PodHours(self.facts.filter(pl.col("_pk").is_in(keys)), attrs)

    def for_cluster(self, cluster: str) -> PodHours:
        return self.for_keys(self.attrs.filter(pl.col("cluster") == cluster))

    def for_day(self, day: date) -> PodHours:
        """The day's pod-hours, each key's ``hour`` its first of that day."""
        facts = self.facts.filter(pl.col("hour").dt.date() == day)
        first = facts.group_by("_pk").agg(pl.col("hour").min())
        return PodHours(facts, self.attrs.drop("hour").join(first, on="_pk"))

    def days(self) -> set[date]:
        return set(self.facts.get_column("hour").dt.date().drop_nulls().to_list())
