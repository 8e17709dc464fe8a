"""Logic both Kubernetes collectors share: samples -> hourly rows, requests, owners, labels.

The live collector (``ingestion.k8s.live``) produces *samples* (what the cluster looked like
at one instant); the Prometheus collector produces values already aggregated per hour. Both
end in the same warehouse tables, so the rules that decide a number live here once:

- effective request of a pod = max(max(init containers), sum(app containers)) (the scheduler's
  rule), a container without a request counts 0;
- the owner chain ReplicaSet -> Deployment and Job -> CronJob, so cost lands on the workload;
- spot / preemptible from the well-known node labels of EKS, GKE, AKS and Karpenter;
- duplicate series (two kube-state-metrics replicas) collapse to one (max, never sum);
- each sample stands for the time until the next sample (capped), cut at hour boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from models.schemas import (
    BOOL,
    F64,
    K8S_NAMESPACE,
    K8S_NODE_HOUR,
    MAP,
    STR,
    TS,
    HourlyTable,
    conform,
)

HOUR = timedelta(hours=1)

# Sample schemas: one row per object per snapshot; ``ts`` is the snapshot time (naive UTC).
NODE_SAMPLE = pl.Schema(
    {
        "cluster": STR,
        "ts": TS,
        # The node's own columns, as k8s_node_hour declares them (declared once).
        **{name: dtype for name, dtype in K8S_NODE_HOUR.schema.items()
           if name not in ("cluster", "hour", "running_seconds", "x_source")},
    }
)
POD_SAMPLE = pl.Schema(
    {
        "cluster": STR,
        "ts": TS,
        "namespace": STR,
        "pod": STR,
        "pod_uid": STR,
        "node": STR,
        "running": BOOL,
        "workload_kind": STR,
        "workload_name": STR,
        "cpu_request": F64,
        "memory_request": F64,
        "gpu_request": F64,
        "cpu_usage": F64,
        "memory_usage": F64,
        "labels": MAP,
        "workload_labels": MAP,
    }
)
QUOTA_SAMPLE = pl.Schema(
    {
        "cluster": STR,
        "ts": TS,
        "namespace": STR,
        "quota": STR,
        "resource": STR,
        "hard": F64,
        "used": F64,
    }
)
VOLUME_SAMPLE = pl.Schema(
    {
        "cluster": STR,
        "ts": TS,
        "namespace": STR,
        "claim": STR,
        "volume_name": STR,
        "volume_id": STR,
        "storage_class": STR,
        "size_bytes": F64,
        "mounting_pods": pl.List(pl.String),
    }
)
LB_SAMPLE = pl.Schema(
    {
        "cluster": STR,
        "ts": TS,
        "namespace": STR,
        "service": STR,
        "ingress": STR,
        "resource_id": STR,
        "labels": MAP,
    }
)
NAMESPACE_SAMPLE = pl.Schema(
    {
        "cluster": STR,
        "ts": TS,
        "namespace": STR,
        "labels": MAP,
        "annotations": MAP,
    }
)
SAMPLE_SCHEMAS = {
    "node": NODE_SAMPLE,
    "pod": POD_SAMPLE,
    "quota": QUOTA_SAMPLE,
    "volume": VOLUME_SAMPLE,
    "lb": LB_SAMPLE,
    "namespace": NAMESPACE_SAMPLE,
}

# Well-known spot / preemptible node labels (key -> values meaning "spot"; None = any value).
SPOT_LABELS: dict[str, set[str] | None] = {
    "eks.amazonaws.com/capacityType": {"SPOT"},
    "karpenter.sh/capacity-type": {"spot"},
    "cloud.google.com/gke-spot": {"true"},
    "cloud.google.com/gke-preemptible": {"true"},
    "kubernetes.azure.com/scalesetpriority": {"spot"},
}
INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")


def sanitize_label(key: str) -> str:
    """kube-state-metrics' spelling of a label key (``label_`` prefix stripped)."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", key)


def first_label(labels: Mapping[str, str], keys: Iterable[str]) -> str | None:
    """The first of ``keys`` present, trying KSM's sanitized spelling too."""
    for key in keys:
        for spelling in (key, sanitize_label(key)):
            if labels.get(spelling):
                return labels[spelling]
    return None


def is_spot(labels: Mapping[str, str]) -> bool:
    for key, values in SPOT_LABELS.items():
        value = first_label(labels, [key])
        if value is not None and (values is None or value.lower() in {v.lower() for v in values}):
            return True
    return False


def to_map(labels: Mapping[str, str] | None) -> list[dict[str, str]]:
    """A dict as the warehouse's MAP value (list of key/value structs), sorted by key."""
    return [{"key": k, "value": str(v)} for k, v in sorted((labels or {}).items())]


def effective_request(init: Iterable[float | None], app: Iterable[float | None]) -> float:
    """What the scheduler reserves: max(max(init containers), sum(app containers))."""
    init_max = max((v or 0.0 for v in init), default=0.0)
    return max(init_max, sum(v or 0.0 for v in app))


Owner = tuple[str, str]  # (kind, name)


def resolve_owner(
    owner: Owner | None,
    namespace: str,
    replicaset_owners: Mapping[tuple[str, str], Owner],
    job_owners: Mapping[tuple[str, str], Owner],
) -> Owner | None:
    """Follow ReplicaSet -> Deployment and Job -> CronJob; other owners are the workload."""
    if owner is None:
        return None
    kind, name = owner
    if kind == "ReplicaSet" and (namespace, name) in replicaset_owners:
        return replicaset_owners[(namespace, name)]
    if kind == "Job" and (namespace, name) in job_owners:
        return job_owners[(namespace, name)]
    return owner


def dedupe_max(frame: pl.DataFrame, keys: list[str], values: list[str]) -> pl.DataFrame:
    """Collapse duplicate series (same keys, e.g. two KSM replicas) with max, never a sum."""
    return frame.group_by(keys, maintain_order=True).agg([pl.col(v).max() for v in values])


def floor_hour(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


# -- samples -> hours -------------------------------------------------------------------
def sample_intervals(times: Iterable[datetime], default_s: float, max_gap_s: float) -> pl.DataFrame:
    """Seconds each snapshot stands for: until the next snapshot, capped; the last one default.

    The cap keeps a collector outage from being billed as hours of running time.
    """
    ordered = sorted(set(times))
    seconds = [
        min((b - a).total_seconds(), max_gap_s) for a, b in zip(ordered, ordered[1:], strict=False)
    ]
    seconds.append(default_s)
    return pl.DataFrame({"ts": ordered, "seconds": seconds}, schema={"ts": TS, "seconds": F64})


def _hour_pieces(samples: pl.DataFrame, intervals: pl.DataFrame) -> pl.DataFrame:
    """Join samples to their interval and cut each interval at the hour boundary (<= 2 pieces)."""
    joined = samples.join(intervals, on="ts", how="inner")
    start = pl.col("ts")
    end = pl.col("ts") + pl.duration(seconds=pl.col("seconds").clip(upper_bound=3600))
    first_hour = start.dt.truncate("1h")
    boundary = first_hour + pl.duration(hours=1)
    first = joined.with_columns(
        hour=first_hour,
        secs=(pl.min_horizontal(end, boundary) - start).dt.total_microseconds() / 1e6,
    )
    second = joined.with_columns(
        hour=boundary,
        secs=((end - boundary).dt.total_microseconds() / 1e6).clip(lower_bound=0.0),
    )
    return pl.concat([first, second]).filter(pl.col("secs") > 0)


def _weighted(col: str, weight: pl.Expr) -> pl.Expr:
    """Time-weighted mean of ``col`` over the pieces where it is known."""
    known = weight * pl.col(col).is_not_null().cast(F64)
    total = known.sum()
    return pl.when(total > 0).then((pl.col(col).fill_null(0.0) * known).sum() / total).alias(col)


def _longest(col: str) -> pl.Expr:
    """The value that held longest within the group (ties: the later one)."""
    return pl.col(col).sort_by(["secs", "ts"]).last().alias(col)


# How each column of an hourly table is made from the sample pieces of its hour, grouped by
# the table's grain: ``running_seconds`` is the time seen; a column named here is made as
# said; any other is its last value in the hour.
WEIGHTED = frozenset({"cpu_request", "memory_request", "gpu_request", "cpu_usage",
                      "memory_usage", "capacity_cpu", "capacity_memory", "capacity_gpu",
                      "allocatable_cpu", "allocatable_memory", "hard", "used"})
LONGEST = frozenset({"node"})  # a pod's node: where it ran longest within the hour
UNION = frozenset({"mounting_pods"})  # every pod that mounted the volume within the hour


def hourly_rows(hourly: HourlyTable, samples: pl.DataFrame, intervals: pl.DataFrame,
                source: str) -> pl.DataFrame:
    """One hourly table's rows from samples of its kind (pods count only while running)."""
    table = hourly.table
    pieces = _hour_pieces(samples, intervals)
    if "running" in pieces.columns:
        pieces = pieces.filter(pl.col("running"))
    made = [c for c in table.columns if c in pieces.columns and c not in table.grain]
    if "running_seconds" in table.schema:
        made.append("running_seconds")
    grouped = pieces.sort("ts").group_by(list(table.grain)).agg(_made(c) for c in made)
    return conform(grouped.with_columns(x_source=pl.lit(source)), table)


def _made(column: str) -> pl.Expr:
    if column == "running_seconds":
        return pl.col("secs").sum().alias(column)
    if column in WEIGHTED:
        return _weighted(column, pl.col("secs"))
    if column in LONGEST:
        return _longest(column)
    if column in UNION:
        return (pl.col(column).list.explode(keep_nulls=False, empty_as_null=False)
                .drop_nulls().unique().sort().alias(column))
    return pl.col(column).last()


# -- namespace history ------------------------------------------------------------------
def _state_key(labels: Any, annotations: Any) -> str:
    def text(entries: Any) -> str:
        return ",".join(f"{e['key']}={e['value']}" for e in (entries or []))

    return f"{text(labels)}|{text(annotations)}"


def namespace_intervals(
    observed: pl.DataFrame, *, open_end: datetime | None, step: timedelta | None = None
) -> pl.DataFrame:
    """Turn observations (cluster, ts, namespace, labels, annotations) into validity intervals.

    A run of identical label sets becomes one row from its first observation to the next
    change. A namespace not observed after ``ts`` (deleted) closes ``step`` after its last
    observation; one still present at ``open_end`` stays open (``valid_to`` null).
    """
    rows: list[dict[str, Any]] = []
    frame = observed.sort(["cluster", "namespace", "ts"])
    for (cluster, namespace), group in frame.group_by(
        ["cluster", "namespace"], maintain_order=True
    ):
        current: dict[str, Any] | None = None
        last_ts: datetime | None = None
        for rec in group.iter_rows(named=True):
            key = _state_key(rec["labels"], rec["annotations"])
            if current is None or current["_key"] != key:
                if current is not None:
                    current["valid_to"] = rec["ts"]
                current = {
                    "cluster": cluster,
                    "namespace": namespace,
                    "valid_from": rec["ts"],
                    "valid_to": None,
                    "labels": rec["labels"],
                    "annotations": rec["annotations"],
                    "_key": key,
                }
                rows.append(current)
            last_ts = rec["ts"]
        if current is not None and last_ts is not None:
            seen_until = last_ts + (step or timedelta(0))
            if open_end is None or seen_until < open_end:
                current["valid_to"] = seen_until
    out = pl.DataFrame(
        [{k: v for k, v in r.items() if k != "_key"} for r in rows],
        schema={k: v for k, v in K8S_NAMESPACE.schema.items() if k != "x_source"},
    )
    return out


def merge_namespace_history(
    existing: pl.DataFrame, new: pl.DataFrame, start: datetime, end: datetime, source: str
) -> pl.DataFrame:
    """Existing history outside [start, end) + the new history inside it, runs coalesced.

    Rows that began before ``start`` are cut at ``start``; rows beginning at or after ``end``
    stay. Two neighbouring rows with the same labels and annotations merge into one.
    """
    before = existing.filter(pl.col("valid_from") < start).with_columns(
        valid_to=pl.when(pl.col("valid_to").is_null() | (pl.col("valid_to") > start))
        .then(pl.lit(start, TS))
        .otherwise(pl.col("valid_to"))
    )
    after = existing.filter(pl.col("valid_from") >= end)
    parts = [conform(f.drop("x_source", strict=False), _NS_NO_SOURCE) for f in (before, new, after)]
    merged = _coalesce(pl.concat(parts).sort(["cluster", "namespace", "valid_from"]))
    return conform(merged.with_columns(x_source=pl.lit(source)), K8S_NAMESPACE)


_NS_NO_SOURCE = type(K8S_NAMESPACE)(
    "k8s_namespace",
    pl.Schema({k: v for k, v in K8S_NAMESPACE.schema.items() if k != "x_source"}),
    K8S_NAMESPACE.grain,
)


def _coalesce(frame: pl.DataFrame) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    for rec in frame.iter_rows(named=True):
        prev = rows[-1] if rows else None
        same = (
            prev is not None
            and prev["cluster"] == rec["cluster"]
            and prev["namespace"] == rec["namespace"]
            and prev["valid_to"] == rec["valid_from"]
            and _state_key(prev["labels"], prev["annotations"])
            == _state_key(rec["labels"], rec["annotations"])
        )
        if same and prev is not None:
            prev["valid_to"] = rec["valid_to"]
        else:
            rows.append(dict(rec))
    return pl.DataFrame(rows, schema=frame.schema)
