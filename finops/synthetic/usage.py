"""Recorded usage, as the collectors would store it: one Parquet file per warehouse table.

Hourly tables are written a day at a time (one row group per day), so a month of 50,000
pods never sits in memory. Every frame goes through ``models.schemas.conform`` first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from finops.synthetic.intervals import MAP, labels
from finops.synthetic.model import Org
from models import schemas
from models.schemas import Table

SOURCE = "prometheus"  # hourly history is what the Prometheus collector records


class TableWriter:
    """Appends conformed frames to one Parquet file; the schema is fixed by the table."""

    def __init__(self, path: Path, table: Table) -> None:
        self.path, self.table = path, table
        self.schema = table.empty().to_arrow().schema
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        self.rows = 0

    def write(self, frame: pl.DataFrame) -> None:
        if frame.height:
            arrow = schemas.conform(frame, self.table).to_arrow().cast(self.schema)
            self.writer.write_table(arrow)
            self.rows += frame.height

    def close(self) -> None:
        self.writer.close()


def node_hour(node_hours: pl.DataFrame) -> pl.DataFrame:
    return node_hours.select(
        "cluster", "node", "hour", "provider_id", "instance_type",
        pl.when(pl.col("provider_id").str.starts_with("aws")).then(pl.lit("us-east-1"))
        .otherwise(pl.lit("us-central1")).alias("region"), "zone",
        capacity_cpu="vcpu", capacity_memory=pl.col("memory_gib") * 1024**3,
        capacity_gpu=pl.lit(0.0), allocatable_cpu="allocatable_cpu",
        allocatable_memory="allocatable_memory", spot=pl.lit(False), labels="labels",
        running_seconds="running_seconds", x_source=pl.lit(SOURCE))


def pod_hour(pod_hours: pl.DataFrame) -> pl.DataFrame:
    return pod_hours.select(
        "cluster", "namespace", "pod", "pod_uid", "hour", "node", "workload_kind",
        "workload_name", "running_seconds", "cpu_request", "cpu_usage", "memory_request",
        "memory_usage", gpu_request=pl.lit(None, pl.Float64), network_bytes="network_bytes",
        labels="labels", workload_labels="workload_labels", x_source=pl.lit(SOURCE))


def volume_hour(volume_hours: pl.DataFrame, pod_hours: pl.DataFrame) -> pl.DataFrame:
    mounts = pod_hours.filter(pl.col("slot").is_in(volume_hours["slot"].drop_nulls().implode())) \
        .group_by("slot", "hour", maintain_order=True).agg(mounting_pods=pl.col("pod").sort())
    joined = volume_hours.join(mounts, on=["slot", "hour"], how="left", maintain_order="left")
    return joined.select(
        "cluster", "namespace", "claim", "hour", "volume_name", "volume_id", "storage_class",
        size_bytes=pl.col("size_gib") * 1024**3,
        mounting_pods=pl.col("mounting_pods").fill_null(pl.lit([], pl.List(pl.String))),
        running_seconds="running_seconds", x_source=pl.lit(SOURCE))


def lb_hour(lb_hours: pl.DataFrame) -> pl.DataFrame:
    return lb_hours.select("cluster", "namespace", "service", "hour", "ingress", "resource_id",
                           "labels", "running_seconds", x_source=pl.lit(SOURCE))


def quota_hour(org: Org, pod_hours: pl.DataFrame) -> pl.DataFrame:
    """ResourceQuota `compute` on some namespaces: hard from the plan, used from the pods."""
    quotas = [(ns.cluster, ns.name) for ns in org.namespaces if ns.quota]
    hard = quota_limits(org)
    rows = pod_hours.filter(pl.struct("cluster", "namespace").is_in(
        pl.DataFrame(quotas, schema=["cluster", "namespace"], orient="row").to_struct()
        .implode()))
    weight = pl.col("running_seconds") / 3600
    used = rows.group_by("cluster", "namespace", "hour", maintain_order=True).agg(
        cpu=(pl.col("cpu_request").fill_null(0) * weight).sum(),
        mem=(pl.col("memory_request").fill_null(0) * weight).sum())
    long = used.unpivot(["cpu", "mem"], index=["cluster", "namespace", "hour"],
                        variable_name="kind", value_name="used")
    long = long.join(hard, on=["cluster", "namespace", "kind"], maintain_order="left") \
        .sort("cluster", "namespace", "hour", "kind")
    return long.select("cluster", "namespace", quota=pl.lit("compute-resources"),
                       resource=pl.when(pl.col("kind") == "cpu").then(pl.lit("requests.cpu"))
                       .otherwise(pl.lit("requests.memory")), hour="hour", hard="hard",
                       used=pl.col("used").round(6), x_source=pl.lit(SOURCE))


def quota_limits(org: Org) -> pl.DataFrame:
    totals: dict[tuple[str, str], list[float]] = {}
    for slot in org.slots:
        key = (slot.cluster, slot.namespace)
        t = totals.setdefault(key, [0.0, 0.0])
        if slot.kind in ("Deployment", "StatefulSet") and slot.replica < 100:
            t[0] += slot.cpu_request or 0.0
            t[1] += slot.memory_request or 0.0
    rows = []
    for ns in org.namespaces:
        if ns.quota and (ns.cluster, ns.name) in totals:
            cpu, mem = totals[(ns.cluster, ns.name)]
            rows += [(ns.cluster, ns.name, "cpu", float(max(1, round(cpu * 1.5 + 0.5)))),
                     (ns.cluster, ns.name, "mem", float(max(1, round(mem * 1.5 / 1024**3 + 0.5))
                                                        * 1024**3))]
    return pl.DataFrame(rows, schema=["cluster", "namespace", "kind", "hard"], orient="row")


def namespace_rows(org: Org) -> pl.DataFrame:
    rows = [{"cluster": ns.cluster, "namespace": ns.name, "valid_from": state.valid_from,
             "valid_to": state.valid_to, "labels": labels(state.labels),
             "annotations": labels(state.annotations), "x_source": "kubernetes"}
            for ns in org.namespaces for state in ns.history]
    return pl.DataFrame(rows, schema_overrides={"labels": MAP, "annotations": MAP,
                                                "valid_to": pl.Datetime("us")})


class UsageWriter:
    """Writes the six usage tables under ``<out>/usage/``.

    ``by_day`` (the large sizes): one directory per day, ``usage/day=YYYY-MM-DD/``, as a
    collector delivering daily would, so each day can be loaded on its own
    (``finops ingest usage`` reads a whole directory into memory); ``k8s_namespace`` (not
    hourly) goes into every day.
    """

    TABLES = (schemas.K8S_NODE_HOUR, schemas.K8S_POD_HOUR, schemas.K8S_QUOTA_HOUR,
              schemas.K8S_VOLUME_HOUR, schemas.K8S_LB_HOUR)

    def __init__(self, out: Path, org: Org, by_day: bool = False) -> None:
        self.dir = out / "usage"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.org, self.by_day = org, by_day
        self.rows = {t.name: 0 for t in self.TABLES}
        self.dirs: list[Path] = []
        self.writers = {} if by_day else self._open(self.dir)

    def _open(self, directory: Path) -> dict[str, TableWriter]:
        return {t.name: TableWriter(directory / f"{t.name}.parquet", t) for t in self.TABLES}

    def write_day(self, node_h: pl.DataFrame, pod_h: pl.DataFrame, vol_h: pl.DataFrame,
                  lb_h: pl.DataFrame, day: datetime | None = None) -> None:
        if self.by_day:
            assert day is not None
            self.dirs.append(self.dir / f"day={day:%Y-%m-%d}")
            self.dirs[-1].mkdir(exist_ok=True)
            self.writers = self._open(self.dirs[-1])
        w = self.writers
        w["k8s_node_hour"].write(node_hour(node_h))
        w["k8s_pod_hour"].write(pod_hour(pod_h))
        w["k8s_quota_hour"].write(quota_hour(self.org, pod_h))
        w["k8s_volume_hour"].write(volume_hour(vol_h, pod_h))
        w["k8s_lb_hour"].write(lb_hour(lb_h))
        if self.by_day:
            self._close_writers()

    def _close_writers(self) -> None:
        for name, writer in self.writers.items():
            writer.close()
            self.rows[name] += writer.rows

    def close(self) -> dict[str, int]:
        namespaces = schemas.conform(namespace_rows(self.org), schemas.K8S_NAMESPACE)
        table = namespaces.to_arrow().cast(schemas.K8S_NAMESPACE.empty().to_arrow().schema)
        for directory in self.dirs or [self.dir]:
            pq.write_table(table, directory / "k8s_namespace.parquet", compression="zstd")
        if not self.by_day:
            self._close_writers()
        return {**self.rows, "k8s_namespace": namespaces.height}


def day_windows(start: datetime, days: int) -> list[tuple[datetime, datetime]]:
    return [(start + timedelta(days=d), start + timedelta(days=d + 1)) for d in range(days)]

