"""The live collector: the real ``kubernetes`` client against a local fake API server.

The lists served are the recorded ones in ``data/`` (see its README); objects no public
recording has (ReplicaSet/Deployment of coredns, a ResourceQuota, a PodMetricsList) are
built here, in the API's shape, and marked as synthetic.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from finops.warehouse import Warehouse
from ingestion.k8s import kube_api
from ingestion.k8s import live as k8s
from models.errors import CollectorError
from models.loads import IngestRun

pytestmark = pytest.mark.integration
DATA = Path(__file__).parent / "data"
MIB = 1024 * 1024
CLUSTER = "eks-test"


def ingest_snapshot(warehouse: Warehouse, snap: k8s.Snapshot, **options: float) -> IngestRun:
    """Store a snapshot as ``finops ingest k8s`` does."""
    return warehouse.load(k8s.snapshot_load(warehouse, snap, **options))


def _json(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def _list(kind: str, items: list[dict[str, Any]], api: str = "v1") -> dict[str, Any]:
    return {"kind": kind, "apiVersion": api, "metadata": {"resourceVersion": "1"}, "items": items}


def serve_cluster(api: Any) -> None:
    nodes = _json("eks-nodes.json")
    nodes["items"][1]["metadata"]["labels"]["eks.amazonaws.com/capacityType"] = "SPOT"  # test edit
    pods = _json("eks-pods.json")
    aks_proxy = next(
        p for p in _json("aks-pods.json")["items"] if p["metadata"]["name"] == "kube-proxy-fqhfk"
    )
    aks_proxy["spec"]["initContainers"][0]["resources"]["requests"]["cpu"] = "500m"  # test edit
    pods["items"].append(aks_proxy)
    pvs = yaml.safe_load((DATA / "pvs-eks.yaml").read_text())
    pvcs = yaml.safe_load((DATA / "pvcs-eks.yaml").read_text())
    synthetic_rs = {
        "metadata": {
            "name": "coredns-7f5998f4c",
            "namespace": "kube-system",
            "ownerReferences": [{"kind": "Deployment", "name": "coredns", "controller": True}],
        }
    }
    synthetic_deploy = {
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"team": "platform"}}
    }
    synthetic_quota = {
        "metadata": {"name": "compute", "namespace": "stress-test"},
        "status": {
            "hard": {"requests.cpu": "2", "requests.memory": "1Gi"},
            "used": {"requests.cpu": "300m", "requests.memory": "256Mi"},
        },
    }
    synthetic_metrics = {
        "metadata": {"name": "stress2", "namespace": "stress-test"},
        "timestamp": "2026-10-01T10:00:00Z",
        "window": "30s",
        "containers": [{"name": "stress", "usage": {"cpu": "150000000n", "memory": "100Mi"}}],
    }
    api.lists = {
        "/api/v1/nodes": nodes,
        "/api/v1/namespaces": _json("k3s-namespaces.json"),
        "/api/v1/pods": pods,
        "/api/v1/resourcequotas": _list("ResourceQuotaList", [synthetic_quota]),
        "/api/v1/persistentvolumes": {**pvs, "kind": "PersistentVolumeList"},
        "/api/v1/persistentvolumeclaims": {**pvcs, "kind": "PersistentVolumeClaimList"},
        "/api/v1/services": _json("k3s-services-kube-system.json"),
        "/apis/apps/v1/replicasets": _list("ReplicaSetList", [synthetic_rs], "apps/v1"),
        "/apis/apps/v1/deployments": _list("DeploymentList", [synthetic_deploy], "apps/v1"),
        "/apis/apps/v1/statefulsets": _list("StatefulSetList", [], "apps/v1"),
        "/apis/apps/v1/daemonsets": {"kind": "DaemonSetList", "items": None},  # k3s-style null
        "/apis/batch/v1/jobs": _list("JobList", [], "batch/v1"),
        "/apis/batch/v1/cronjobs": _list("CronJobList", [], "batch/v1"),
        "/apis/metrics.k8s.io/v1beta1/pods": _list(
            "PodMetricsList", [synthetic_metrics], "metrics.k8s.io/v1beta1"
        ),
    }


@pytest.fixture
def cluster(fake_apiserver: tuple[Any, Path]) -> tuple[Any, Any]:
    api, kubeconfig = fake_apiserver
    serve_cluster(api)
    return api, kube_api.api_client(str(kubeconfig), None)


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 10, 1, hh, mm)


def by(frame: Any, column: str) -> dict[str, dict[str, Any]]:
    return {row[column]: row for row in frame.to_dicts()}


def test_snapshot_reads_the_recorded_cluster(cluster: tuple[Any, Any]) -> None:
    _, client = cluster
    snap = k8s.snapshot(client, CLUSTER, at(10, 0))
    nodes = by(snap.samples["node"], "node")
    assert nodes["duckboat-01"]["spot"] is False and nodes["duckboat-02"]["spot"] is True
    one = nodes["duckboat-01"]
    assert (one["instance_type"], one["zone"], one["region"]) == (
        "m6gd.2xlarge",
        "us-east-1a",
        "us-east-1",
    )
    assert one["provider_id"] == "aws:///us-east-1a/i-03dc801fd988ab620"
    assert one["capacity_cpu"] == 8 and one["allocatable_cpu"] == pytest.approx(7.91)
    assert one["capacity_memory"] == 32144656 * 1024
    pods = by(snap.samples["pod"], "pod")
    assert len(pods) == 7
    coredns = pods["coredns-7f5998f4c-5fblt"]
    assert (coredns["workload_kind"], coredns["workload_name"]) == ("Deployment", "coredns")
    assert coredns["workload_labels"] == [{"key": "team", "value": "platform"}]
    assert coredns["cpu_request"] == pytest.approx(0.1) and coredns["memory_request"] == 70 * MIB
    assert pods["aws-node-48cfw"]["cpu_request"] == pytest.approx(0.025)  # init without resources
    assert pods["kube-proxy-fqhfk"]["cpu_request"] == pytest.approx(0.5)  # max(init 0.5, app 0.1)
    stress = pods["stress2"]
    assert stress["workload_kind"] is None  # bare pod
    assert stress["cpu_usage"] == pytest.approx(0.15) and stress["memory_usage"] == 100 * MIB
    assert coredns["cpu_usage"] is None  # no metrics for it: unknown, not zero
    assert snap.samples["quota"].filter(resource="requests.cpu").select("hard", "used").row(0) == (
        2.0,
        pytest.approx(0.3),
    )
    volumes = by(snap.samples["volume"], "claim")
    assert volumes["data-consul-0"]["volume_id"] == "vol-004bb053d7ab1ea55"
    assert volumes["data-consul-0"]["size_bytes"] == 8 * 1024 * MIB
    lbs = snap.samples["lb"].to_dicts()
    assert [(r["namespace"], r["service"], r["ingress"]) for r in lbs] == [
        ("kube-system", "traefik", "10.0.0.11")
    ]
    assert snap.samples["namespace"].height == 4


def test_pagination_and_410_restart(cluster: tuple[Any, Any]) -> None:
    api, client = cluster
    calls = kube_api.lists_of(client)
    pods = kube_api.list_all("list pods", calls["pods"], page=2)
    assert len(pods) == 7
    assert api.requests.count("/api/v1/pods?continue") == 3
    api.requests.clear()
    api.expire_next_continue = 1
    pods = kube_api.list_all("list pods", calls["pods"], page=3)
    assert len(pods) == 7  # restarted from scratch, no duplicates
    assert len({p["metadata"]["uid"] for p in pods}) == 7
    assert api.requests == [
        "/api/v1/pods",
        "/api/v1/pods?continue",
        "/api/v1/pods",
        "/api/v1/pods?continue",
        "/api/v1/pods?continue",
    ]


def test_no_metrics_server_is_not_an_error(cluster: tuple[Any, Any]) -> None:
    api, client = cluster
    del api.lists["/apis/metrics.k8s.io/v1beta1/pods"]
    snap = k8s.snapshot(client, CLUSTER, at(10, 0))
    assert snap.samples["pod"]["cpu_usage"].null_count() == 7


@pytest.mark.parametrize(
    "status, message", [(401, "unauthorized"), (403, "forbidden"), (500, "HTTP 500")]
)
def test_api_errors_name_the_list(cluster: tuple[Any, Any], status: int, message: str) -> None:
    api, client = cluster
    api.status["/api/v1/pods"] = status
    with pytest.raises(CollectorError, match=rf"kubernetes \(query: list pods\): {message}"):
        k8s.snapshot(client, CLUSTER, at(10, 0))


def test_malformed_json_and_unreachable(cluster: tuple[Any, Any], tmp_path: Path) -> None:
    api, client = cluster
    api.raw["/api/v1/nodes"] = b'{"kind": "NodeList", "items": ['
    with pytest.raises(CollectorError, match="list nodes.*malformed JSON"):
        k8s.snapshot(client, CLUSTER, at(10, 0))
    config = tmp_path / "dead"
    config.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "x",
                "clusters": [{"name": "x", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "x", "user": {}}],
                "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
            }
        )
    )
    dead = kube_api.api_client(str(config), None)
    dead.configuration.retries = 0
    with pytest.raises(CollectorError, match="cannot reach the API server"):
        k8s.snapshot(dead, CLUSTER, at(10, 0))


def test_snapshots_accumulate_into_hours(cluster: tuple[Any, Any], warehouse: Warehouse) -> None:
    api, client = cluster
    full = copy.deepcopy(api.lists["/api/v1/pods"])
    for minute in (50, 55):
        ingest_snapshot(
            warehouse, k8s.snapshot(client, CLUSTER, at(10, minute)), interval_s=300
        )
    # stress2 is deleted and node duckboat-02 leaves before 11:00
    api.lists["/api/v1/pods"]["items"] = [
        p for p in full["items"] if p["metadata"]["name"] != "stress2"
    ]
    api.lists["/api/v1/nodes"]["items"] = api.lists["/api/v1/nodes"]["items"][:1]
    ingest_snapshot(warehouse, k8s.snapshot(client, CLUSTER, at(11, 0)), interval_s=300)
    ingest_snapshot(warehouse, k8s.snapshot(client, CLUSTER, at(11, 5)), interval_s=300)
    pods = warehouse.frame(
        "SELECT pod, hour, running_seconds, cpu_usage FROM k8s_pod_hour "
        "WHERE pod IN ('stress2', 'coredns-7f5998f4c-5fblt') ORDER BY pod, hour"
    )
    assert pods.rows() == [
        ("coredns-7f5998f4c-5fblt", at(10, 0), 600.0, None),
        ("coredns-7f5998f4c-5fblt", at(11, 0), 600.0, None),  # 11:00 (300 s) + 11:05 (300 s)
        ("stress2", at(10, 0), 600.0, pytest.approx(0.15)),
    ]
    nodes = warehouse.frame("SELECT node, hour, running_seconds FROM k8s_node_hour ORDER BY ALL")
    assert nodes.rows() == [
        ("duckboat-01", at(10, 0), 600.0),
        ("duckboat-01", at(11, 0), 600.0),
        ("duckboat-02", at(10, 0), 600.0),
    ]
    # a re-run of the same snapshot replaces, never adds
    ingest_snapshot(warehouse, k8s.snapshot(client, CLUSTER, at(11, 5)), interval_s=300)
    again = warehouse.frame(
        "SELECT sum(running_seconds) AS s FROM k8s_pod_hour WHERE hour = $h", {"h": at(11, 0)}
    )
    assert again.item() == 6 * 600.0


def test_sample_crossing_the_hour_is_split(cluster: tuple[Any, Any], warehouse: Warehouse) -> None:
    _, client = cluster
    ingest_snapshot(warehouse, k8s.snapshot(client, CLUSTER, at(10, 58)), interval_s=300)
    rows = warehouse.frame(
        "SELECT hour, running_seconds FROM k8s_node_hour WHERE node = 'duckboat-01' ORDER BY hour"
    )
    assert rows.rows() == [(at(10, 0), 120.0), (at(11, 0), 180.0)]


def test_namespace_history_and_failed_snapshot(
    cluster: tuple[Any, Any], warehouse: Warehouse
) -> None:
    api, client = cluster
    ingest_snapshot(warehouse, k8s.snapshot(client, CLUSTER, at(10, 0)))
    ns = api.lists["/api/v1/namespaces"]
    ns["items"][0]["metadata"]["labels"]["team"] = "payments"  # default gets a team label
    ns["items"] = ns["items"][:3]  # kube-system deleted
    ingest_snapshot(warehouse, k8s.snapshot(client, CLUSTER, at(10, 5)))
    ingest_snapshot(warehouse, k8s.snapshot(client, CLUSTER, at(10, 10)))
    history = warehouse.frame(
        "SELECT namespace, valid_from, valid_to, labels['team'] AS team "
        "FROM k8s_namespace WHERE namespace IN ('default', 'kube-system') "
        "ORDER BY ALL"
    )
    assert history.rows() == [
        ("default", at(10, 0), at(10, 5), None),
        ("default", at(10, 5), None, "payments"),
        ("kube-system", at(10, 0), at(10, 5), None),
    ]
    before = warehouse.frame("SELECT * FROM k8s_pod_hour ORDER BY ALL")
    api.status["/api/v1/services"] = 403
    with pytest.raises(CollectorError):
        ingest_snapshot(warehouse, k8s.snapshot(client, CLUSTER, at(10, 15)))
    assert warehouse.frame("SELECT * FROM k8s_pod_hour ORDER BY ALL").equals(before)
