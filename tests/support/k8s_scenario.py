"""The Prometheus history the collector tests read: real-world mess, hand-checkable numbers.

Series are written as OpenMetrics and backfilled into a real Prometheus TSDB with
``promtool tsdb create-blocks-from openmetrics``. One sample per minute (scrape interval 60 s)
from T0 = 2026-10-01T00:00Z for 26 hours. Every kube-state-metrics series is written twice
(``instance="ksm-0"`` and ``"ksm-1"``: two KSM replicas); cAdvisor series once per node.

Cluster ``prod`` (label ``cluster``):
- node n1 (spot, m5.xlarge) all the time; n2 leaves at 00:30; n3 appears at 00:40;
- pod ``shop/api-7d9-abc`` (ReplicaSet api-7d9 -> Deployment api) on n1: app request
  0.5 cpu / 512 MiB, init request 1 cpu / 128 MiB; CPU 0.25 cores with a counter reset at
  00:30; working set 200 MiB;
- pod ``shop/report-28000-xyz`` (Job report-28000 -> CronJob report), no requests, runs
  00:10-00:30 (shorter than the 1 h step) at 2 cores and 100 MiB;
- pod ``data/db-0`` (StatefulSet db) moves: uid db-a on n2 until 00:30, uid db-b on n1 after;
- namespace ``shop`` label team=alpha until 12:00, then team=beta; ``temp`` deleted at 02:00;
- quota shop/compute, a PV pvc-1 (EBS CSI vol-0abc) claimed by data/data-db-0 and mounted by
  db-0, a LoadBalancer service shop/web that exists until 00:45.
Cluster ``dev``: node d1 and pod default/dev-pod (0.1 cpu request), KSM only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 10, 1)
HOURS = 26
END = T0 + timedelta(hours=HOURS)
MIB = 1024 * 1024
GIB = 1024 * MIB


def minute(hh: int, mm: int = 0) -> int:
    return hh * 60 + mm


@dataclass
class Series:
    metric: str
    labels: dict[str, str]
    start: int  # minute offset from T0, inclusive
    stop: int  # exclusive
    value: Callable[[int], float]
    ksm: bool = True  # written once per KSM replica


def const(v: float) -> Callable[[int], float]:
    return lambda _m: v


def counter(
    start_value: float, rate: float, first: int, reset_at: int | None = None
) -> Callable[[int], float]:
    """A cumulative CPU-seconds counter; after ``reset_at`` it restarts (container restart)."""

    def value(m: int) -> float:
        if reset_at is not None and m >= reset_at:
            return rate * 60 * (m - reset_at + 1)
        return start_value + rate * 60 * (m - first)

    return value


FULL = (0, minute(HOURS))


def _nodes() -> Iterator[Series]:
    nodes = [
        ("prod", "n1", "aws:///us-east-1a/i-0aaa", "m5.xlarge", "us-east-1a", True, 4, FULL),
        (
            "prod",
            "n2",
            "aws:///us-east-1b/i-0bbb",
            "m5.large",
            "us-east-1b",
            False,
            2,
            (0, minute(0, 30)),
        ),
        (
            "prod",
            "n3",
            "aws:///us-east-1a/i-0ccc",
            "m5.large",
            "us-east-1a",
            False,
            2,
            (minute(0, 40), minute(HOURS)),
        ),
        ("dev", "d1", "", "k3s", "", False, 2, FULL),
    ]
    for cluster, node, pid, itype, zone, spot, cpu, (a, b) in nodes:
        base = {"cluster": cluster, "node": node}
        yield Series(
            "kube_node_info", {**base, "provider_id": pid, "kernel_version": "6.1"}, a, b, const(1)
        )
        labels = {
            "label_node_kubernetes_io_instance_type": itype,
            "label_topology_kubernetes_io_zone": zone,
            "label_topology_kubernetes_io_region": zone[:-1],
        }
        if spot:
            labels["label_karpenter_sh_capacity_type"] = "spot"
        yield Series("kube_node_labels", {**base, **labels}, a, b, const(1))
        for metric, cores, mem in (
            ("kube_node_status_capacity", cpu, cpu * 4 * GIB),
            ("kube_node_status_allocatable", cpu - 0.1, cpu * 4 * GIB - GIB),
        ):
            yield Series(metric, {**base, "resource": "cpu", "unit": "core"}, a, b, const(cores))
            yield Series(metric, {**base, "resource": "memory", "unit": "byte"}, a, b, const(mem))


def _pod(
    cluster: str,
    ns: str,
    pod: str,
    uid: str,
    node: str,
    span: tuple[int, int],
    owner: tuple[str, str],
    running_until: int | None = None,
) -> Iterator[Series]:
    base = {"cluster": cluster, "namespace": ns, "pod": pod, "uid": uid}
    a, b = span
    yield Series(
        "kube_pod_info", {**base, "node": node, "created_by_kind": owner[0]}, a, b, const(1)
    )
    stop = running_until if running_until is not None else b
    yield Series(
        "kube_pod_container_status_running",
        {**base, "container": "app"},
        a,
        b,
        lambda m: 1.0 if m < stop else 0.0,
    )
    yield Series(
        "kube_pod_owner",
        {**base, "owner_kind": owner[0], "owner_name": owner[1], "owner_is_controller": "true"},
        a,
        b,
        const(1),
    )
    yield Series("kube_pod_labels", {**base, "label_app": pod.split("-")[0]}, a, b, const(1))


def _request(
    cluster: str,
    ns: str,
    pod: str,
    uid: str,
    span: tuple[int, int],
    container: str,
    cpu: float,
    mem: float,
    init: bool = False,
) -> Iterator[Series]:
    metric = (
        "kube_pod_init_container_resource_requests"
        if init
        else "kube_pod_container_resource_requests"
    )
    base = {
        "cluster": cluster,
        "namespace": ns,
        "pod": pod,
        "uid": uid,
        "container": container,
        "node": "n1",
    }
    yield Series(metric, {**base, "resource": "cpu", "unit": "core"}, *span, const(cpu))
    yield Series(metric, {**base, "resource": "memory", "unit": "byte"}, *span, const(mem))


def _cadvisor(
    cluster: str,
    ns: str,
    pod: str,
    node: str,
    span: tuple[int, int],
    cpu: Callable[[int], float],
    mem: float,
) -> Iterator[Series]:
    base = {
        "cluster": cluster,
        "namespace": ns,
        "pod": pod,
        "container": "app",
        "node": node,
        "instance": node,
    }
    yield Series(
        "container_cpu_usage_seconds_total", {**base, "cpu": "total"}, *span, cpu, ksm=False
    )
    yield Series("container_memory_working_set_bytes", base, *span, const(mem), ksm=False)
    # the pod-level cgroup series (container="") must not be counted twice
    yield Series(
        "container_memory_working_set_bytes",
        {**base, "container": ""},
        *span,
        const(mem * 3),
        ksm=False,
    )


def _pods() -> Iterator[Series]:
    job_span = (minute(0, 10), minute(0, 40))
    db_a, db_b = (0, minute(0, 30)), (minute(0, 30), minute(HOURS))
    yield from _pod("prod", "shop", "api-7d9-abc", "u-api", "n1", FULL, ("ReplicaSet", "api-7d9"))
    yield from _request("prod", "shop", "api-7d9-abc", "u-api", FULL, "app", 0.5, 512 * MIB)
    yield from _request("prod", "shop", "api-7d9-abc", "u-api", FULL, "init", 1.0, 128 * MIB, True)
    yield from _cadvisor(
        "prod",
        "shop",
        "api-7d9-abc",
        "n1",
        FULL,
        counter(1000, 0.25, 0, reset_at=minute(0, 30)),
        200 * MIB,
    )
    yield from _pod(
        "prod",
        "shop",
        "report-28000-xyz",
        "u-job",
        "n1",
        job_span,
        ("Job", "report-28000"),
        running_until=minute(0, 30),
    )
    yield from _cadvisor(
        "prod",
        "shop",
        "report-28000-xyz",
        "n1",
        (minute(0, 10), minute(0, 30)),
        counter(120, 2.0, minute(0, 10)),
        100 * MIB,
    )
    yield from _pod("prod", "data", "db-0", "u-db-a", "n2", db_a, ("StatefulSet", "db"))
    yield from _pod("prod", "data", "db-0", "u-db-b", "n1", db_b, ("StatefulSet", "db"))
    for uid, span in (("u-db-a", db_a), ("u-db-b", db_b)):
        yield from _request("prod", "data", "db-0", uid, span, "app", 0.25, GIB)
    yield from _cadvisor("prod", "data", "db-0", "n2", db_a, counter(500, 0.1, 0), 100 * MIB)
    yield from _cadvisor("prod", "data", "db-0", "n1", db_b, counter(500, 0.2, db_b[0]), 300 * MIB)
    yield from _pod("dev", "default", "dev-pod", "u-dev", "d1", FULL, ("<none>", "<none>"))
    yield from _request("dev", "default", "dev-pod", "u-dev", FULL, "app", 0.1, 64 * MIB)


def _owners_and_metadata() -> Iterator[Series]:
    p = {"cluster": "prod"}
    yield Series(
        "kube_replicaset_owner",
        {
            **p,
            "namespace": "shop",
            "replicaset": "api-7d9",
            "owner_kind": "Deployment",
            "owner_name": "api",
        },
        *FULL,
        const(1),
    )
    yield Series(
        "kube_job_owner",
        {
            **p,
            "namespace": "shop",
            "job_name": "report-28000",
            "owner_kind": "CronJob",
            "owner_name": "report",
        },
        *FULL,
        const(1),
    )
    yield Series(
        "kube_deployment_labels",
        {**p, "namespace": "shop", "deployment": "api", "label_team": "alpha-deploy"},
        *FULL,
        const(1),
    )
    yield Series(
        "kube_cronjob_labels",
        {**p, "namespace": "shop", "cronjob": "report", "label_team": "reporting"},
        *FULL,
        const(1),
    )
    yield Series(
        "kube_statefulset_labels",
        {**p, "namespace": "data", "statefulset": "db", "label_team": "data"},
        *FULL,
        const(1),
    )
    ns = [
        ("shop", "alpha", (0, minute(12))),
        ("shop", "beta", (minute(12), minute(HOURS))),
        ("data", "data", FULL),
        ("temp", "gamma", (0, minute(2))),
    ]
    for name, team, span in ns:
        yield Series(
            "kube_namespace_labels", {**p, "namespace": name, "label_team": team}, *span, const(1)
        )
    yield Series(
        "kube_namespace_labels", {"cluster": "dev", "namespace": "default"}, *FULL, const(1)
    )
    yield Series(
        "kube_namespace_annotations",
        {**p, "namespace": "shop", "annotation_owner": "alice"},
        *FULL,
        const(1),
    )
    quota = {**p, "namespace": "shop", "resourcequota": "compute", "resource": "requests.cpu"}
    yield Series("kube_resourcequota", {**quota, "type": "hard"}, *FULL, const(4))
    yield Series("kube_resourcequota", {**quota, "type": "used"}, *FULL, const(1.5))


def _storage_and_lb() -> Iterator[Series]:
    p = {"cluster": "prod"}
    yield Series(
        "kube_persistentvolume_info",
        {
            **p,
            "persistentvolume": "pvc-1",
            "storageclass": "gp3",
            "csi_volume_handle": "vol-0abc",
            "ebs_volume_id": "",
        },
        *FULL,
        const(1),
    )
    yield Series(
        "kube_persistentvolume_capacity_bytes",
        {**p, "persistentvolume": "pvc-1"},
        *FULL,
        const(10 * GIB),
    )
    yield Series(
        "kube_persistentvolumeclaim_info",
        {
            **p,
            "namespace": "data",
            "persistentvolumeclaim": "data-db-0",
            "storageclass": "gp3",
            "volumename": "pvc-1",
        },
        *FULL,
        const(1),
    )
    yield Series(
        "kube_pod_spec_volumes_persistentvolumeclaims_info",
        {
            **p,
            "namespace": "data",
            "pod": "db-0",
            "uid": "u-db-b",
            "volume": "data",
            "persistentvolumeclaim": "data-db-0",
        },
        *FULL,
        const(1),
    )
    svc = {**p, "namespace": "shop", "service": "web"}
    span = (0, minute(0, 45))
    yield Series("kube_service_spec_type", {**svc, "type": "LoadBalancer"}, *span, const(1))
    yield Series(
        "kube_service_status_load_balancer_ingress",
        {**svc, "ip": "", "hostname": "web-1.elb.amazonaws.com"},
        *span,
        const(1),
    )
    yield Series("kube_service_labels", {**svc, "label_team": "alpha"}, *span, const(1))


def all_series() -> list[Series]:
    return [*_nodes(), *_pods(), *_owners_and_metadata(), *_storage_and_lb()]


def _fmt_labels(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def openmetrics() -> Iterator[str]:
    """OpenMetrics text, family by family (promtool wants each family contiguous)."""
    base = T0.replace(tzinfo=UTC).timestamp()
    by_metric: dict[str, list[Series]] = {}
    for series in all_series():
        by_metric.setdefault(series.metric, []).append(series)
    for metric, group in by_metric.items():
        yield f"# TYPE {metric} unknown\n"
        for series in group:
            replicas = ("ksm-0", "ksm-1") if series.ksm else (None,)
            for replica in replicas:
                labels = dict(series.labels)
                if replica:  # the scrape's labels: they differ between the two replicas
                    labels["instance"] = replica
                    labels.setdefault("pod", f"kube-state-metrics-{replica[-1]}")
                text = _fmt_labels(labels)
                for m in range(series.start, series.stop):
                    yield f"{metric}{{{text}}} {series.value(m)} {int(base + m * 60)}\n"
    yield "# EOF\n"
