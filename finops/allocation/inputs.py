"""The engine's input: one dataclass of frames, each matching its warehouse schema.

``bill`` is the view ``cost_line_daily`` (cost_line columns plus ``day``); the Kubernetes
frames are the hourly usage tables. Every frame defaults to empty, so a test or a caller
hands in only what it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import polars as pl

from finops.allocation.pod_hours import PodHours
from models.schemas import (
    BACKSTAGE_OWNERS,
    COST_LINE,
    COST_LINE_COMPACT,
    DAY,
    K8S_HOURLY,
    K8S_LB_HOUR,
    K8S_NAMESPACE,
    K8S_NODE_HOUR,
    K8S_POD_HOUR,
    K8S_QUOTA_HOUR,
    K8S_VOLUME_HOUR,
    PRICE_CATALOG,
    Table,
    conform,
)

BILL_SCHEMA = pl.Schema({**dict(COST_LINE.schema.items()), "day": DAY})
MONEY = ("billed_cost", "effective_cost", "list_cost")
# The bill columns the engine reads besides money; everything else is dropped (and the
# pipeline never reads it from the warehouse). Declared once, as the compacted bill's columns.
BILL_KEYS = tuple(c for c in COST_LINE_COMPACT.columns if c not in MONEY)


# The warehouse table behind each input frame; the hourly ones are read a day at a time.
HOURLY: dict[str, Table] = {hourly.input: hourly.table for hourly in K8S_HOURLY}
TABLES: dict[str, Table] = {**HOURLY, "namespaces": K8S_NAMESPACE, "catalog": PRICE_CATALOG}


def _empty(table: Table) -> pl.DataFrame:
    return table.empty()


def empty_bill() -> pl.DataFrame:
    return pl.DataFrame(schema=BILL_SCHEMA)


def conform_bill(frame: pl.DataFrame) -> pl.DataFrame:
    """Cost lines with a ``day`` column (derived from charge_period_start when absent)."""
    if "day" not in frame.columns:
        frame = frame.with_columns(pl.col("charge_period_start").dt.date().alias("day"))
    day = frame.get_column("day").cast(DAY)
    return conform(frame.drop("day"), COST_LINE).with_columns(day.alias("day"))


def compact_bill(bill: pl.DataFrame) -> pl.DataFrame:
    """One line per distinct engine-relevant attributes, money summed: a resource billed
    hourly becomes one line a day. Every step is linear in money and splits lines by weights
    that do not depend on how many lines there are, so this changes no result; only lines the
    bill split per pod keep their hour (they are placed at it)."""
    split = pl.col("x_namespace").is_not_null() | pl.col("x_pod").is_not_null()
    hour = pl.when(split).then(pl.col("charge_period_start").dt.truncate("1h"))
    keyed = bill.lazy().select(*BILL_KEYS[:-1], hour.alias("charge_period_start"), *MONEY)
    return keyed.group_by(BILL_KEYS).agg(pl.col(m).sum() for m in MONEY).collect()


@dataclass(frozen=True)
class AllocationInputs:
    """Everything one allocation run reads. Frames follow models/schemas.py."""

    bill: pl.DataFrame = field(default_factory=empty_bill)
    nodes: pl.DataFrame = field(default_factory=lambda: _empty(K8S_NODE_HOUR))
    pods: pl.DataFrame = field(default_factory=lambda: _empty(K8S_POD_HOUR))
    namespaces: pl.DataFrame = field(default_factory=lambda: _empty(K8S_NAMESPACE))
    quotas: pl.DataFrame = field(default_factory=lambda: _empty(K8S_QUOTA_HOUR))
    volumes: pl.DataFrame = field(default_factory=lambda: _empty(K8S_VOLUME_HOUR))
    lbs: pl.DataFrame = field(default_factory=lambda: _empty(K8S_LB_HOUR))
    catalog: pl.DataFrame = field(default_factory=lambda: _empty(PRICE_CATALOG))
    # Backstage owners: kind = namespace | kubernetes-id, match = the name, owner = team.
    backstage: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=BACKSTAGE_OWNERS))
    # True when ``bill`` is already what ``compact_bill`` makes of it (the pipeline has DuckDB
    # compact it while reading), so the engine does not group it again.
    bill_is_compact: bool = False
    # The pod-hours already keyed (the pipeline has DuckDB key them while reading); when set,
    # it replaces ``pods``, which stays empty.
    pod_hours: PodHours | None = None

    def keyed_pods(self) -> PodHours:
        """The pod-hours keyed (``pod_hours`` as read, else ``pods`` keyed here)."""
        return self.pod_hours if self.pod_hours is not None else PodHours.of(self.pods)

    @classmethod
    def build(cls, **frames: pl.DataFrame) -> AllocationInputs:
        """Conform each given frame to its schema (missing columns become nulls)."""
        conformed: dict[str, Any] = {name: conform(frame, TABLES[name])
                                     for name, frame in frames.items() if name in TABLES}
        if "bill" in frames:
            conformed["bill"] = conform_bill(frames["bill"])
        if "backstage" in frames:
            conformed["backstage"] = frames["backstage"]
        return cls(**conformed)

    def days(self) -> list[date]:
        """Every day any input covers, in order."""
        found: set[date] = set(self.bill.get_column("day").drop_nulls().to_list())
        for frame in (self.nodes, self.pods):
            found |= set(frame.get_column("hour").dt.date().drop_nulls().to_list())
        if self.pod_hours is not None:
            found |= self.pod_hours.days()
        return sorted(found)

    def for_day(self, day: date) -> AllocationInputs:
        """The inputs of one UTC day (namespaces, catalog and Backstage are kept whole)."""
        hourly = {name: getattr(self, name).filter(pl.col("hour").dt.date() == day)
                  for name in HOURLY}
        keyed = self.pod_hours.for_day(day) if self.pod_hours is not None else None
        return replace(self, bill=self.bill.filter(pl.col("day") == day), pod_hours=keyed,
                       **hourly)

    def for_cluster(self, cluster: str) -> AllocationInputs:
        """The Kubernetes inputs of one cluster (the bill is routed separately)."""
        def mine(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.filter(pl.col("cluster") == cluster)

        keyed = self.pod_hours.for_cluster(cluster) if self.pod_hours is not None else None
        return replace(
            self, nodes=mine(self.nodes), pods=mine(self.pods), namespaces=mine(self.namespaces),
            quotas=mine(self.quotas), volumes=mine(self.volumes), lbs=mine(self.lbs),
            pod_hours=keyed,
        )
