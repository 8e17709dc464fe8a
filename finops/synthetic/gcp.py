"""Writer of the GCP bill: detailed (resource-level) BigQuery billing export rows as NDJSON.

One JSON object per line with the export's nested fields (``service{id,description}``,
``labels`` as ``[{key,value}]``, ``credits`` as an array, ``invoice{month}``, …); timestamps
are ISO-8601 UTC. ``cost`` is before credits; credits are negative (sustained-use discounts).
"""

from __future__ import annotations

import gzip
import io
from datetime import datetime
from pathlib import Path
from typing import IO, cast

import polars as pl
import pyarrow.parquet as pq

from finops.synthetic import accounts as acc
from finops.synthetic import catalog as cat
from finops.synthetic.intervals import listed
from finops.synthetic.model import Org
from finops.synthetic.spec import HOURS_IN_PERIOD
from models.errors import InputError

KV = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
CREDIT = pl.Struct({"name": pl.String, "amount": pl.Float64, "full_name": pl.String,
                    "id": pl.String, "type": pl.String})
GCE = ("6F81-5844-456A", "Compute Engine")
GKE = ("CCD8-9BF1-090E", "Kubernetes Engine")
SQL = ("9662-B51E-5089", "Cloud SQL")
GCS = ("95FF-2EF5-5EA1", "Cloud Storage")
PROJECTS = {
    acc.GCP_GKE_PROJECT[0]: (acc.GCP_GKE_PROJECT[1], [("env", "prod")]),
    acc.GCP_DATA_PROJECT[0]: (acc.GCP_DATA_PROJECT[1], [("env", "prod"),
                                                        ("cost-center", "cc-4410")]),
}
FMT = "%Y-%m-%dT%H:%M:%SZ"


def _kv(pairs: list[tuple[str, str]]) -> pl.Expr:
    return pl.lit([{"key": k, "value": v} for k, v in pairs], KV)


def _project(project: str) -> pl.Expr:
    number, labels = PROJECTS[project]
    return pl.struct(id=pl.lit(project), number=pl.lit(number), name=pl.lit(project),
                     labels=_kv(labels), ancestry_numbers=pl.lit("/418273645190/" + number + "/"))


def _row(service: tuple[str, str], sku: tuple[str, str], project: str, cost: pl.Expr,
         amount: pl.Expr, unit: str, pricing_amount: pl.Expr, pricing_unit: str,
         end: pl.Expr, **fields: pl.Expr) -> dict[str, pl.Expr]:
    cost = cost.round(6)
    row = {
        "billing_account_id": pl.lit(acc.GCP_BILLING_ACCOUNT),
        "service": pl.struct(id=pl.lit(service[0]), description=pl.lit(service[1])),
        "sku": pl.struct(id=pl.lit(sku[0]), description=pl.lit(sku[1])),
        "usage_start_time": pl.col("hour").dt.strftime(FMT),
        "usage_end_time": end.dt.strftime(FMT),
        "project": _project(project),
        "labels": pl.lit([], KV), "system_labels": pl.lit([], KV),
        "location": pl.struct(location=pl.lit(acc.GCP_REGION), country=pl.lit("US"),
                              region=pl.lit(acc.GCP_REGION), zone=pl.lit(None, pl.String)),
        "resource": pl.struct(name=pl.lit(None, pl.String), global_name=pl.lit(None, pl.String)),
        "export_time": (end + pl.duration(hours=3, minutes=17)).dt.strftime(FMT),
        "cost": cost, "currency": pl.lit("USD"), "currency_conversion_rate": pl.lit(1.0),
        "usage": pl.struct(amount=amount, unit=pl.lit(unit),
                           amount_in_pricing_units=pricing_amount.round(9),
                           pricing_unit=pl.lit(pricing_unit)),
        "credits": pl.lit([], pl.List(CREDIT)),
        "invoice": pl.struct(month=pl.col("hour").dt.strftime("%Y%m")),
        "cost_type": pl.lit("regular"), "cost_at_list": cost,
        "transaction_type": pl.lit("GOOGLE"),
    }
    row.update(fields)
    return row


def _cluster_labels() -> list[pl.Expr]:
    return [pl.struct(key=pl.lit("goog-k8s-cluster-name"), value=pl.col("cluster")),
            pl.struct(key=pl.lit("goog-k8s-cluster-location"), value=pl.lit(acc.GCP_REGION))]


def instances(node_hours: pl.DataFrame, sud: dict[str, float]) -> pl.DataFrame:
    """GCE instance hours of the GKE nodes: a core line and a RAM line per instance-hour."""
    rows = node_hours.filter(pl.col("provider_id").str.starts_with("gce://")).with_columns(
        sud=pl.col("node").replace_strict(sud, default=0.0))
    if rows.is_empty():
        return pl.DataFrame()
    out = []
    for part in ("core", "ram"):
        out.append(rows.select(**_instance(rows, part)))
    return pl.concat(out)


def _instance(rows: pl.DataFrame, part: str) -> dict[str, pl.Expr]:
    family = "n2"
    sku = cat.GCE_SKUS[(family, part)]
    h = pl.col("running_seconds") / 3600
    if part == "core":
        cost, amount = h * pl.col("vcpu") * cat.GCE_CORE_HOUR[family], \
            pl.col("running_seconds") * pl.col("vcpu")
        unit, punit, pamount = "seconds", "hour", h * pl.col("vcpu")
    else:
        cost = h * pl.col("memory_gib") * cat.GCE_RAM_GIB_HOUR[family]
        amount = pl.col("running_seconds") * pl.col("memory_gib") * 1024**3
        unit, punit, pamount = "byte-seconds", "gibibyte hour", h * pl.col("memory_gib")
    credit = pl.when(pl.col("sud") > 0).then(listed(pl.struct(
        name=pl.lit("Sustained Usage Discount"), amount=(-cost * pl.col("sud")).round(6),
        full_name=pl.lit("Sustained Usage Discount"),
        id=pl.lit("SUSTAINED_USAGE_DISCOUNT"), type=pl.lit("SUSTAINED_USAGE_DISCOUNT")))) \
        .otherwise(pl.lit([], pl.List(CREDIT)))
    project = acc.GCP_GKE_PROJECT[0]
    global_name = pl.format("//compute.googleapis.com/projects/{}/zones/{}/instances/{}",
                            pl.lit(project), pl.col("zone"), pl.col("instance_id"))
    return _row(GCE, sku, project, cost, amount, unit, pamount, punit,
                pl.col("hour") + pl.duration(hours=1),
                labels=listed(*_cluster_labels(), pl.struct(
                    key=pl.lit("goog-k8s-node-pool-name"), value=pl.col("pool"))),
                system_labels=listed(
                    pl.struct(key=pl.lit("compute.googleapis.com/machine_spec"),
                              value=pl.col("instance_type")),
                    pl.struct(key=pl.lit("compute.googleapis.com/cores"),
                              value=pl.col("vcpu").cast(pl.Int64).cast(pl.String)),
                    pl.struct(key=pl.lit("compute.googleapis.com/memory"),
                              value=(pl.col("memory_gib") * 1024).cast(pl.Int64)
                              .cast(pl.String))),
                location=pl.struct(location=pl.col("zone"), country=pl.lit("US"),
                                   region=pl.lit(acc.GCP_REGION), zone=pl.col("zone")),
                resource=pl.struct(name=pl.col("instance_id"), global_name=global_name),
                credits=credit)


def cluster_fee(grid: pl.DataFrame) -> pl.DataFrame:
    project = acc.GCP_GKE_PROJECT[0]
    name = acc.GKE_CLUSTER
    fields = _row(GKE, ("B561-BFBD-1264", "Regional Kubernetes Clusters"), project,
                  pl.lit(cat.GKE_CLUSTER_HOUR), pl.lit(3600.0), "seconds", pl.lit(1.0), "hour",
                  pl.col("hour") + pl.duration(hours=1),
                  labels=listed(*_cluster_labels()),
                  resource=pl.struct(name=pl.lit(name), global_name=pl.lit(
                      f"//container.googleapis.com/projects/{project}/locations/"
                      f"{acc.GCP_REGION}/clusters/{name}")))
    return grid.with_columns(cluster=pl.lit(name)).select(**fields)


def disks(volume_hours: pl.DataFrame) -> pl.DataFrame:
    """Persistent disks behind the GKE PVs, labelled with cluster and namespace."""
    rows = volume_hours.filter(~pl.col("volume_id").str.starts_with("vol-"))
    if rows.is_empty():
        return pl.DataFrame()
    project = acc.GCP_GKE_PROJECT[0]
    gib_months = pl.col("size_gib") * pl.col("running_seconds") / (3600 * HOURS_IN_PERIOD)
    global_name = pl.format("//compute.googleapis.com/projects/{}/zones/{}/disks/{}",
                            pl.lit(project), pl.col("zone"), pl.col("volume_id"))
    fields = _row(GCE, ("D973-5D65-BAB2", "Balanced PD Capacity"), project,
                  gib_months * cat.GCE_PD_BALANCED_GB_MONTH,
                  pl.col("size_gib") * 1024**3 * pl.col("running_seconds"), "byte-seconds",
                  gib_months, "gibibyte month", pl.col("hour") + pl.duration(hours=1),
                  labels=listed(*_cluster_labels(), pl.struct(
                      key=pl.lit("k8s-namespace"), value=pl.col("namespace")
                      .fill_null("kube:unallocated"))),
                  location=pl.struct(location=pl.col("zone"), country=pl.lit("US"),
                                     region=pl.lit(acc.GCP_REGION), zone=pl.col("zone")),
                  resource=pl.struct(name=pl.col("volume_id"), global_name=global_name))
    return rows.select(**fields)


def managed(org: Org, grid: pl.DataFrame, day: pl.DataFrame) -> list[pl.DataFrame]:
    """Cloud SQL by the hour and Cloud Storage by the day, labelled (or not) with a team."""
    out = []
    for res in org.cloud:
        if res.provider != "gcp":
            continue
        resource = pl.struct(name=pl.lit(res.name), global_name=pl.lit(
            f"//{'sqladmin' if res.kind == 'cloudsql' else 'storage'}.googleapis.com/"
            f"projects/{res.account}/{'instances' if res.kind == 'cloudsql' else 'buckets'}/"
            f"{res.name}"))
        labels = _kv(list(res.tags))
        hour_end = pl.col("hour") + pl.duration(hours=1)
        if res.kind == "cloudsql":
            vcpu, ram = (float(x) for x in res.size.split(":"))
            out.append(grid.select(**_row(
                SQL, ("9B2E-B1A5-2E2F", "Cloud SQL for PostgreSQL: Zonal - vCPU in Americas"),
                res.account, pl.lit(vcpu * cat.CLOUD_SQL_VCPU_HOUR), pl.lit(vcpu * 3600),
                "seconds", pl.lit(vcpu), "hour", hour_end, labels=labels, resource=resource)))
            out.append(grid.select(**_row(
                SQL, ("A8D2-6A4B-3C1E", "Cloud SQL for PostgreSQL: Zonal - RAM in Americas"),
                res.account, pl.lit(ram * cat.CLOUD_SQL_RAM_GIB_HOUR),
                pl.lit(ram * 1024**3 * 3600), "byte-seconds", pl.lit(ram), "gibibyte hour",
                hour_end, labels=labels, resource=resource)))
        else:
            gib_months = float(res.size) * 24 / HOURS_IN_PERIOD
            out.append(day.select(**_row(
                GCS, ("E5F0-6A5D-7BAD", "Standard Storage US Regional"), res.account,
                pl.lit(gib_months * cat.GCS_STANDARD_GB_MONTH),
                pl.lit(float(res.size) * 1024**3 * 86400), "byte-seconds", pl.lit(gib_months),
                "gibibyte month", pl.col("hour") + pl.duration(days=1), labels=labels,
                resource=resource)))
    return out


def sud_by_node(org: Org) -> dict[str, float]:
    """Each GKE node's average sustained-use discount over the billing month."""
    out = {}
    for node in org.nodes:
        if node.provider_id.startswith("gce://"):
            hours = (min(node.end, org.spec.end) - max(node.start, org.spec.start))
            out[node.name] = round(cat.sustained_use_discount(
                hours.total_seconds() / 3600 / HOURS_IN_PERIOD), 6)
    return out


FORMATS = ("jsonl.gz", "jsonl", "parquet")


class GcpWriter:
    """Appends each day's export rows to ``gcp/billing_export.<fmt>``.

    JSONL is what a ``bq extract`` gives; Parquet (one row group per day, same nested
    columns) is what the large sizes use: ``finops ingest gcp-billing`` reads it without
    parsing JSON and the generator skips a slow gzip.
    """

    def __init__(self, out: Path, org: Org, fmt: str = "jsonl.gz") -> None:
        if fmt not in FORMATS:
            raise InputError(f"GCP export format {fmt!r}: choose one of {', '.join(FORMATS)}")
        self.org, self.fmt = org, fmt
        directory = out / "gcp"
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"billing_export.{fmt}"
        self._raw: IO[bytes] | None = None
        self.fh: IO[bytes] | None = None
        self.parquet: pq.ParquetWriter | None = None
        if fmt != "parquet":
            self._raw = self.path.open("wb")
            self.fh = cast(IO[bytes], gzip.GzipFile(filename="", mode="wb", fileobj=self._raw,
                                                    mtime=0) if fmt == "jsonl.gz" else self._raw)
        self.sud = sud_by_node(org)
        self.rows = 0
        self.by_project: dict[str, dict[str, float]] = {}

    def write_day(self, lo: datetime, hi: datetime, node_h: pl.DataFrame,
                  vol_h: pl.DataFrame) -> None:
        grid = pl.DataFrame({"hour": pl.datetime_range(lo, hi, "1h", closed="left",
                                                       time_unit="us", eager=True)})
        parts = [instances(node_h, self.sud), cluster_fee(grid), disks(vol_h),
                 *managed(self.org, grid, grid.head(1))]
        frame = pl.concat([p for p in parts if p.height], how="vertical_relaxed")
        self._account(frame)
        self._append(frame)
        self.rows += frame.height

    def _append(self, frame: pl.DataFrame) -> None:
        if self.fh is not None:
            buffer = io.BytesIO()
            frame.write_ndjson(buffer)
            self.fh.write(buffer.getvalue())
            return
        table = frame.to_arrow()
        if self.parquet is None:
            self.parquet = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.parquet.write_table(table.cast(self.parquet.schema))

    def _account(self, frame: pl.DataFrame) -> None:
        credits = pl.col("credits").list.eval(pl.element().struct.field("amount")).list.sum()
        sums = frame.group_by(project=pl.col("project").struct.field("id")).agg(
            cost=pl.col("cost").sum(), credits=credits.sum())
        for project, cost, credit in sums.sort("project").iter_rows():
            t = self.by_project.setdefault(project, {"cost": 0.0, "credits": 0.0})
            t["cost"] += cost
            t["credits"] += credit

    def finish(self) -> dict:
        if self.parquet is not None:
            self.parquet.close()
        if self.fh is not None:
            self.fh.close()
        if self._raw is not None and self._raw is not self.fh:
            self._raw.close()
        return {"rows": self.rows, "file": self.path.name,
                "by_project": {p: {"cost": round(t["cost"], 6), "credits": round(t["credits"], 6),
                                   "net": round(t["cost"] + t["credits"], 6)}
                               for p, t in sorted(self.by_project.items())}}
