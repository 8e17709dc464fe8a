"""Live snapshot of a cluster through the Kubernetes API (``kube_api``, client injected).

One call of ``snapshot`` lists nodes, namespaces, pods, workloads (to resolve owners),
ResourceQuotas, PVCs/PVs, Services and ``metrics.k8s.io`` pod usage, and turns them into
*samples* (``ingestion.k8s.hours`` schemas). ``snapshot_load`` stores the samples
(``k8s_snapshot``) and rebuilds the hourly rows of every hour the new sample touches from
all samples of those hours, so a CronJob running every 5 minutes accumulates running seconds
hour by hour.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from kubernetes import client
from kubernetes.utils import parse_quantity

from ingestion.k8s import hours as kh
from ingestion.k8s.kube_api import SOURCE, Doc, list_all, lists_of, pod_metrics
from models.loads import FrameReader, IngestRun, Load, Replace
from models.schemas import K8S_HOURLY, K8S_NAMESPACE, STR, TS, Table

SNAPSHOT_TABLE = Table(
    "k8s_snapshot",
    pl.Schema({"cluster": STR, "taken_at": TS, "kind": STR, "frame": pl.Binary()}),
    ("cluster", "taken_at", "kind"),
)


@dataclass
class Snapshot:
    cluster: str
    taken_at: datetime
    samples: dict[str, pl.DataFrame] = field(default_factory=dict)


def _q(value: Any) -> float | None:
    return None if value is None else float(parse_quantity(str(value)))


def _meta(doc: Doc) -> Doc:
    return doc.get("metadata") or {}


def _owner(doc: Doc) -> kh.Owner | None:
    refs = _meta(doc).get("ownerReferences") or []
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    return (ref["kind"], ref["name"]) if ref else None


def _owner_index(docs: list[Doc]) -> dict[tuple[str, str], kh.Owner]:
    index = {}
    for doc in docs:
        owner = _owner(doc)
        if owner:
            index[(_meta(doc).get("namespace", ""), _meta(doc).get("name", ""))] = owner
    return index


def _label_index(lists: dict[str, list[Doc]]) -> dict[tuple[str, str, str], dict[str, str]]:
    kinds = {
        "deployments": "Deployment",
        "statefulsets": "StatefulSet",
        "daemonsets": "DaemonSet",
        "jobs": "Job",
        "cronjobs": "CronJob",
        "replicasets": "ReplicaSet",
    }
    return {
        (kind, _meta(d).get("namespace", ""), _meta(d).get("name", "")): _meta(d).get("labels")
        or {}
        for key, kind in kinds.items()
        for d in lists.get(key, [])
    }


def node_row(doc: Doc) -> Doc:
    status, labels = doc.get("status") or {}, _meta(doc).get("labels") or {}
    cap, alloc = status.get("capacity") or {}, status.get("allocatable") or {}
    return {
        "node": _meta(doc)["name"],
        "provider_id": (doc.get("spec") or {}).get("providerID"),
        "instance_type": kh.first_label(labels, kh.INSTANCE_TYPE_LABELS),
        "region": kh.first_label(labels, kh.REGION_LABELS),
        "zone": kh.first_label(labels, kh.ZONE_LABELS),
        "capacity_cpu": _q(cap.get("cpu")),
        "capacity_memory": _q(cap.get("memory")),
        "capacity_gpu": _q(cap.get("nvidia.com/gpu")) or 0.0,
        "allocatable_cpu": _q(alloc.get("cpu")),
        "allocatable_memory": _q(alloc.get("memory")),
        "spot": kh.is_spot(labels),
        "labels": kh.to_map(labels),
    }


def _requests(spec: Doc, resource: str) -> float:
    def req(c: Doc) -> float | None:
        return _q(((c.get("resources") or {}).get("requests") or {}).get(resource))

    return kh.effective_request(
        [req(c) for c in spec.get("initContainers") or []],
        [req(c) for c in spec.get("containers") or []],
    )


def _usage(metrics: list[Doc] | None) -> dict[tuple[str, str], tuple[float, float]]:
    usage = {}
    for doc in metrics or []:
        containers = doc.get("containers") or []
        cpu = sum(_q((c.get("usage") or {}).get("cpu")) or 0.0 for c in containers)
        mem = sum(_q((c.get("usage") or {}).get("memory")) or 0.0 for c in containers)
        usage[(_meta(doc).get("namespace", ""), _meta(doc).get("name", ""))] = (cpu, mem)
    return usage


def pod_rows(lists: dict[str, list[Doc]], metrics: list[Doc] | None) -> list[Doc]:
    rs_owners, job_owners = _owner_index(lists["replicasets"]), _owner_index(lists["jobs"])
    workload_labels, usage = _label_index(lists), _usage(metrics)
    rows = []
    for doc in lists["pods"]:
        meta, spec = _meta(doc), doc.get("spec") or {}
        ns = meta.get("namespace", "")
        owner = kh.resolve_owner(_owner(doc), ns, rs_owners, job_owners)
        used = usage.get((ns, meta.get("name", "")))
        rows.append(
            {
                "namespace": ns,
                "pod": meta.get("name"),
                "pod_uid": meta.get("uid"),
                "node": spec.get("nodeName"),
                "running": (doc.get("status") or {}).get("phase") == "Running",
                "workload_kind": owner[0] if owner else None,
                "workload_name": owner[1] if owner else None,
                "cpu_request": _requests(spec, "cpu"),
                "memory_request": _requests(spec, "memory"),
                "gpu_request": _requests(spec, "nvidia.com/gpu"),
                "cpu_usage": used[0] if used else None,
                "memory_usage": used[1] if used else None,
                "labels": kh.to_map(meta.get("labels")),
                "workload_labels": kh.to_map(
                    workload_labels.get((owner[0], ns, owner[1])) if owner else None
                ),
            }
        )
    return rows


def quota_rows(docs: list[Doc]) -> list[Doc]:
    rows = []
    for doc in docs:
        status = doc.get("status") or {}
        hard, used = status.get("hard") or {}, status.get("used") or {}
        for resource, value in hard.items():
            rows.append(
                {
                    "namespace": _meta(doc).get("namespace"),
                    "quota": _meta(doc).get("name"),
                    "resource": resource,
                    "hard": _q(value),
                    "used": _q(used.get(resource)),
                }
            )
    return rows


def volume_id(spec: Doc) -> str | None:
    """The cloud disk behind a PV: CSI volumeHandle, in-tree EBS (``aws://zone/vol-…``) or PD."""
    if spec.get("awsElasticBlockStore"):
        return str(spec["awsElasticBlockStore"]["volumeID"]).rsplit("/", 1)[-1]
    if spec.get("gcePersistentDisk"):
        return spec["gcePersistentDisk"].get("pdName")
    if spec.get("azureDisk"):
        return spec["azureDisk"].get("diskURI")
    return (spec.get("csi") or {}).get("volumeHandle")


def volume_rows(pvs: list[Doc], pvcs: list[Doc], pods: list[Doc]) -> list[Doc]:
    mounts: dict[tuple[str, str], list[str]] = {}
    for pod in pods:
        for vol in (pod.get("spec") or {}).get("volumes") or []:
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                mounts.setdefault((_meta(pod).get("namespace", ""), claim), []).append(
                    _meta(pod)["name"]
                )
    rows = []
    for pv in pvs:
        spec = pv.get("spec") or {}
        ref = spec.get("claimRef") or {}
        key = (ref.get("namespace", ""), ref.get("name", ""))
        rows.append(
            {
                "namespace": ref.get("namespace"),
                "claim": ref.get("name"),
                "volume_name": _meta(pv)["name"],
                "volume_id": volume_id(spec),
                "storage_class": spec.get("storageClassName"),
                "size_bytes": _q((spec.get("capacity") or {}).get("storage")),
                "mounting_pods": sorted(mounts.get(key, [])),
            }
        )
    del pvcs  # claims are reached through the PV's claimRef; unbound claims cost nothing
    return rows


def lb_rows(services: list[Doc]) -> list[Doc]:
    rows = []
    for svc in services:
        if (svc.get("spec") or {}).get("type") != "LoadBalancer":
            continue
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        first = ingress[0] if ingress else {}
        rows.append(
            {
                "namespace": _meta(svc).get("namespace"),
                "service": _meta(svc)["name"],
                "ingress": first.get("hostname") or first.get("ip"),
                "resource_id": None,
                "labels": kh.to_map(_meta(svc).get("labels")),
            }
        )
    return rows


def namespace_rows(docs: list[Doc]) -> list[Doc]:
    return [
        {
            "namespace": _meta(d)["name"],
            "labels": kh.to_map(_meta(d).get("labels")),
            "annotations": kh.to_map(_meta(d).get("annotations")),
        }
        for d in docs
    ]


def _frame(rows: list[Doc], kind: str, cluster: str, ts: datetime) -> pl.DataFrame:
    schema = kh.SAMPLE_SCHEMAS[kind]
    full = [{"cluster": cluster, "ts": ts, **row} for row in rows]
    return pl.DataFrame(full, schema=schema) if full else pl.DataFrame(schema=schema)


def snapshot(api: client.ApiClient, cluster: str, now: datetime) -> Snapshot:
    """Read the cluster once and return its samples (nothing is written)."""
    lists = {name: list_all(f"list {name}", call) for name, call in lists_of(api).items()}
    metrics = pod_metrics(api)
    ts = now.replace(microsecond=0)
    rows = {
        "node": [node_row(d) for d in lists["nodes"]],
        "pod": pod_rows(lists, metrics),
        "quota": quota_rows(lists["quotas"]),
        "volume": volume_rows(lists["pvs"], lists["pvcs"], lists["pods"]),
        "lb": lb_rows(lists["services"]),
        "namespace": namespace_rows(lists["namespaces"]),
    }
    return Snapshot(cluster, ts, {k: _frame(v, k, cluster, ts) for k, v in rows.items()})


# -- the load: store the samples, rebuild the hours they touch ---------------------------
def snapshot_load(history: FrameReader, snap: Snapshot, *, interval_s: float = 300.0) -> Load:
    """Store ``snap`` and rebuild every hourly row it can change, from all samples of those
    hours (``history`` reads the samples stored before): one load, one transaction."""
    prev = _one(history, "SELECT max(taken_at) FROM k8s_snapshot WHERE cluster = $c "
                "AND taken_at < $t", {"c": snap.cluster, "t": snap.taken_at}) or snap.taken_at
    first_hour = kh.floor_hour(min(prev, snap.taken_at))
    end_hour = kh.floor_hour(snap.taken_at + timedelta(seconds=interval_s)) + kh.HOUR
    stored = _stored(history, snap.cluster, first_hour - kh.HOUR, snap.taken_at)
    times = history.frame("SELECT DISTINCT taken_at FROM k8s_snapshot WHERE cluster = $c "
                          "AND taken_at >= $s", {"c": snap.cluster, "s": first_hour - kh.HOUR})
    intervals = kh.sample_intervals([snap.taken_at, *times.to_series().to_list()], interval_s,
                                    min(3 * interval_s, 3600.0))
    window = {"c": snap.cluster, "s": first_hour, "e": end_hour}
    replaces = []
    for hourly in K8S_HOURLY:
        samples = pl.concat([*stored.get(hourly.kind, []), snap.samples[hourly.kind]],
                            how="vertical_relaxed")
        rows = kh.hourly_rows(hourly, samples, intervals, SOURCE)
        replaces.append(Replace(hourly.table, rows.filter(pl.col("hour") >= first_hour),
                                "cluster = $c AND hour >= $s AND hour < $e", window))
    replaces += [_namespace_replace(history, snap), _samples_replace(snap)]
    return Load(IngestRun.begin(SOURCE, [snap.cluster], first_hour, end_hour), replaces)


def _one(history: FrameReader, sql: str, params: dict[str, Any]) -> Any:
    return history.frame(sql, params).row(0)[0]


def _stored(history: FrameReader, cluster: str, since: datetime,
            now: datetime) -> dict[str, list[pl.DataFrame]]:
    rows = history.frame("SELECT kind, frame FROM k8s_snapshot WHERE cluster = $c "
                         "AND taken_at >= $s AND taken_at <> $t ORDER BY taken_at",
                         {"c": cluster, "s": since, "t": now})
    stored: dict[str, list[pl.DataFrame]] = {}
    for kind, blob in rows.iter_rows():
        stored.setdefault(kind, []).append(pl.read_ipc(io.BytesIO(blob)))
    return stored


def _samples_replace(snap: Snapshot) -> Replace:
    """This snapshot's samples, kept a few hours for the snapshots that follow."""
    blobs = pl.DataFrame(
        [{"cluster": snap.cluster, "taken_at": snap.taken_at, "kind": kind,
          "frame": _to_blob(frame)}
         for kind, frame in snap.samples.items() if kind != "namespace"],
        schema=SNAPSHOT_TABLE.schema,
    )
    keep = {"c": snap.cluster, "t": snap.taken_at,
            "old": kh.floor_hour(snap.taken_at) - 3 * kh.HOUR}
    return Replace(SNAPSHOT_TABLE, blobs, "cluster = $c AND (taken_at = $t OR taken_at < $old)",
                   keep)


def _to_blob(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    return buffer.getvalue()


def _namespace_replace(history: FrameReader, snap: Snapshot) -> Replace:
    existing = history.frame("SELECT * FROM k8s_namespace WHERE cluster = $c",
                             {"c": snap.cluster})
    new = kh.namespace_intervals(snap.samples["namespace"], open_end=snap.taken_at)
    merged = kh.merge_namespace_history(existing, new, snap.taken_at, datetime(9999, 1, 1),
                                        SOURCE)
    return Replace(K8S_NAMESPACE, merged, "cluster = $c", {"c": snap.cluster})
