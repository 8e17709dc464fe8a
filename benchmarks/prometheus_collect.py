"""Issue 4 benchmark: collect 24 h of a 10,000-pod cluster from a real Prometheus.

``python -m benchmarks.prometheus_collect --pods 10000 --hours 24 [--step 60] [--workdir DIR]``

1. Setup (timed, reported apart): a synthetic cluster (pods // 20 nodes, pods // 50
   namespaces, Deployments with roll-outs, two DaemonSets, hourly CronJobs, a node replaced
   now and then) as kube-state-metrics v2 + cAdvisor OpenMetrics, one file per 2 h TSDB block
   (promtool re-parses its whole input once per block, so per-block files parse the data
   once), each backfilled with ``promtool tsdb create-blocks-from openmetrics`` while the next
   one is generated, then deleted. The TSDB is reused by later runs with the same shape.
2. A real Prometheus on a free loopback port serves that TSDB (empty scrape config).
3. ``finops ingest prometheus`` for 6 h, 12 h and the full window, each into a fresh
   warehouse in a child process: wall time, peak RSS (``wait4`` rusage of the child), the
   queries Prometheus answered (its own ``prometheus_http_requests_total``) and the rows.

Results: a table on stdout and ``benchmarks/out/prometheus_collect.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx

from tests.support.prometheus import finish_backfill, prometheus, start_backfill

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 10, 1)
EPOCH = int(T0.replace(tzinfo=UTC).timestamp())
BLOCK_S = 2 * 3600  # promtool's block length
CLUSTER = 'cluster="bench"'
KSM = f'{CLUSTER},instance="10.0.3.17:8080",job="kube-state-metrics"'
TYPES = [("m5.xlarge", 4, 16), ("m5.2xlarge", 8, 32), ("c5.4xlarge", 16, 32), ("r5.2xlarge", 8, 64)]
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
GIB = 1024**3
MIB = 1024**2


# -- the cluster --------------------------------------------------------------------------
@dataclass
class Pod:
    ns: str
    name: str
    uid: str
    node: str
    start: int  # seconds from T0, inclusive
    stop: int  # exclusive
    owner: tuple[str, str]  # (kind, name) as kube_pod_owner reports it
    containers: list[tuple[str, float | None, float | None]]  # (name, cpu, memory request)
    cores: float  # CPU use per container
    mem: float  # working set per container
    reset_at: int | None = None  # a container restart (CPU counter reset)


@dataclass
class Cluster:
    span: int
    nodes: list[tuple[str, str, int, int]] = field(default_factory=list)  # name, type, start, stop
    namespaces: list[str] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    replicasets: list[tuple[str, str, str]] = field(default_factory=list)  # ns, rs, deployment
    jobs: list[tuple[str, str, str]] = field(default_factory=list)  # ns, job, cronjob


def build(pods: int, hours: int, seed: int = 4) -> Cluster:
    """Deterministic cluster of ~``pods`` running pods over ``hours`` with realistic churn."""
    rnd, span = random.Random(seed), hours * 3600
    c = Cluster(span)
    n_nodes = max(pods // 20, 3)
    for i in range(n_nodes):
        c.nodes.append((f"node-{i:04d}", rnd.choice(TYPES)[0], 0, span))
    for i in range(n_nodes // 50 + 1):  # replacements: the old node leaves, the new one joins
        at = rnd.randrange(3600, span) // 60 * 60
        old = c.nodes[i * 37 % n_nodes]
        c.nodes[i * 37 % n_nodes] = (old[0], old[1], old[2], at)
        c.nodes.append((f"node-{n_nodes + i:04d}", old[1], at, span))
    c.namespaces = ["monitoring", "logging", *[f"ns-{i:03d}" for i in range(max(pods // 50, 2))]]
    for ds, ns in (("node-exporter", "monitoring"), ("fluent-bit", "logging")):
        for node, _t, a, b in c.nodes:
            _pod(c, rnd, ns, f"{ds}-{_suffix(rnd)}", node, (a, b), ("DaemonSet", ds), 1)
    for j in range(max(pods // 100, 1)):
        ns, cron = c.namespaces[2 + j % (len(c.namespaces) - 2)], f"report-{j}"
        for h in range(hours):
            job = f"{cron}-{29000000 + h * 60}"
            a = h * 3600 + rnd.randrange(0, 40) * 60
            c.jobs.append((ns, job, cron))
            node = c.nodes[rnd.randrange(n_nodes)][0]
            _pod(c, rnd, ns, f"{job}-{_suffix(rnd)}", node, (a, a + rnd.randrange(5, 25) * 60),
                 ("Job", job), 1)
    target, d = pods - 2 * n_nodes - max(pods // 100, 1) // 4, 0
    while target > 0:
        target -= _deployment(c, rnd, f"svc-{d}", c.namespaces[2 + d % (len(c.namespaces) - 2)])
        d += 1
    _evict_from_leaving_nodes(c, rnd)
    return c


def _suffix(rnd: random.Random, n: int = 5) -> str:
    return "".join(rnd.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def _pod(c: Cluster, rnd: random.Random, ns: str, name: str, node: str, span: tuple[int, int],
         owner: tuple[str, str], n_containers: int) -> None:
    containers: list[tuple[str, float | None, float | None]] = []
    for k in range(n_containers):
        if rnd.random() < 0.05:  # pods without requests exist
            containers.append(("app" if k == 0 else "sidecar", None, None))
        else:
            containers.append(("app" if k == 0 else "sidecar", rnd.choice([0.05, 0.1, 0.25, 0.5]),
                               rnd.choice([64, 128, 256, 512, 1024]) * MIB))
    reset = span[0] + (span[1] - span[0]) // 2 // 60 * 60 if rnd.random() < 0.02 else None
    c.pods.append(Pod(ns, name, f"{rnd.getrandbits(64):016x}", node, span[0], span[1], owner,
                      containers, rnd.uniform(0.01, 0.4), rnd.uniform(30, 600) * MIB, reset))


def _deployment(c: Cluster, rnd: random.Random, dep: str, ns: str) -> int:
    replicas, sidecar = rnd.randint(1, 9), rnd.random() < 0.3
    rollout = rnd.randrange(1800, c.span) // 60 * 60 if rnd.random() < 0.2 else None
    phases = [(0, rollout or c.span)] + ([(rollout, c.span)] if rollout else [])
    live = [n for n in c.nodes if n[2] == 0]
    for a, b in phases:
        rs = f"{dep}-{_suffix(rnd, 9)}"
        c.replicasets.append((ns, rs, dep))
        for _ in range(replicas):
            node = live[rnd.randrange(len(live))][0]
            _pod(c, rnd, ns, f"{rs}-{_suffix(rnd)}", node, (a, b), ("ReplicaSet", rs),
                 2 if sidecar else 1)
    return replicas


def _evict_from_leaving_nodes(c: Cluster, rnd: random.Random) -> None:
    """Pods on a node that leaves stop there; ReplicaSet pods come back on its replacement."""
    leaving = {n[0]: n[3] for n in c.nodes if n[3] < c.span}
    joined = [n[0] for n in c.nodes if n[2] > 0]
    for pod in list(c.pods):
        gone = leaving.get(pod.node)
        if gone is None or not pod.start < gone < pod.stop or pod.owner[0] == "DaemonSet":
            continue
        stop, pod.stop = pod.stop, gone
        if pod.owner[0] == "ReplicaSet":
            c.pods.append(Pod(pod.ns, f"{pod.owner[1]}-{_suffix(rnd)}",
                              f"{rnd.getrandbits(64):016x}", rnd.choice(joined), gone, stop,
                              pod.owner, pod.containers, pod.cores, pod.mem))


# -- the series ---------------------------------------------------------------------------
# (label text, start s, stop s, kind, a, b): kind "c" constant a; "n" a CPU counter with
# rate a cores and a reset at b (or None); "m" a working set around a bytes, moving hourly.
Series = tuple[str, int, int, str, Any, Any]


def _l(**labels: object) -> str:
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def families(c: Cluster) -> dict[str, list[Series]]:
    """Every series, by metric family (promtool wants each family contiguous in a file)."""
    f: dict[str, list[Series]] = {}

    def add(metric: str, labels: str, a: int, b: int, kind: str = "c", x: Any = 1,
            y: Any = None) -> None:
        f.setdefault(metric, []).append((labels, a, b, kind, x, y))

    _node_series(c, add)
    _namespace_series(c, add)
    for ns, rs, dep in c.replicasets:
        add("kube_replicaset_owner", f"{KSM},{_l(namespace=ns, replicaset=rs)},"
            f'owner_kind="Deployment",owner_name="{dep}",owner_is_controller="true"', 0, c.span)
    for ns, dep in sorted({(ns, dep) for ns, _rs, dep in c.replicasets}):
        add("kube_deployment_labels", f"{KSM},{_l(namespace=ns, deployment=dep)},"
            f'label_app="{dep}",label_team="team-{zlib.crc32(dep.encode()) % 25}"', 0, c.span)
    for pod in c.pods:
        _pod_series(pod, add)
    return f


def _node_series(c: Cluster, add: Any) -> None:
    shapes = {t: (cpu, mem) for t, cpu, mem in TYPES}
    for i, (node, itype, a, b) in enumerate(c.nodes):
        zone, (cpu, mem) = ZONES[i % 3], shapes[itype]
        n = f"{KSM},node=\"{node}\""
        add("kube_node_info", f'{n},provider_id="aws:///{zone}/i-{i:017x}",'
            'kernel_version="6.1.112",kubelet_version="v1.30.4",os_image="Bottlerocket OS 1.22",'
            f'container_runtime_version="containerd://1.7.22",internal_ip="10.0.{i // 250}.'
            f'{i % 250}"', a, b)
        spot = ',label_karpenter_sh_capacity_type="spot"' if i % 5 == 0 else ""
        add("kube_node_labels", f'{n},label_node_kubernetes_io_instance_type="{itype}",'
            f'label_topology_kubernetes_io_zone="{zone}",'
            f'label_topology_kubernetes_io_region="us-east-1"{spot}', a, b)
        for metric, less in (("kube_node_status_capacity", 0), ("kube_node_status_allocatable", 1)):
            add(metric, f'{n},resource="cpu",unit="core"', a, b, x=cpu - 0.08 * less)
            add(metric, f'{n},resource="memory",unit="byte"', a, b, x=(mem - less) * GIB)
            add(metric, f'{n},resource="pods",unit="integer"', a, b, x=110)


def _namespace_series(c: Cluster, add: Any) -> None:
    half = c.span // 2 // 3600 * 3600
    for i, ns in enumerate(c.namespaces):
        base = f'{KSM},namespace="{ns}",label_kubernetes_io_metadata_name="{ns}"'
        team = f"team-{i % 25}"
        if i % 40 == 5:  # re-labelled mid-window: ownership follows the label at that hour
            add("kube_namespace_labels", f'{base},label_team="{team}"', 0, half)
            add("kube_namespace_labels", f'{base},label_team="team-{(i + 1) % 25}"', half, c.span)
        else:
            add("kube_namespace_labels", f'{base},label_team="{team}"', 0, c.span)
        q = f'{KSM},namespace="{ns}",resourcequota="compute"'
        for resource, hard, used in (("requests.cpu", 64, 12.5), ("requests.memory", 256 * GIB,
                                     40 * GIB), ("pods", 500, 50)):
            add("kube_resourcequota", f'{q},resource="{resource}",type="hard"', 0, c.span, x=hard)
            add("kube_resourcequota", f'{q},resource="{resource}",type="used"', 0, c.span, x=used)


def _pod_series(p: Pod, add: Any) -> None:
    who = f'namespace="{p.ns}",pod="{p.name}",uid="{p.uid}"'
    k, a, b = f"{KSM},{who}", p.start, p.stop
    add("kube_pod_info", f'{k},node="{p.node}",created_by_kind="{p.owner[0]}",'
        f'created_by_name="{p.owner[1]}",priority_class="",host_network="false",'
        f'pod_ip="100.64.{int(p.uid[:4], 16) % 250}.{int(p.uid[4:6], 16)}"', a, b)
    add("kube_pod_owner", f'{k},owner_kind="{p.owner[0]}",owner_name="{p.owner[1]}",'
        'owner_is_controller="true"', a, b)
    app = {"ReplicaSet": p.owner[1].rsplit("-", 1)[0], "Job": p.owner[1].rsplit("-", 1)[0]}.get(
        p.owner[0], p.owner[1])
    team = zlib.crc32(app.encode()) % 25
    add("kube_pod_labels", f'{k},label_app="{app}",label_team="team-{team}"', a, b)
    cad = (f'{CLUSTER},instance="{p.node}",job="kubelet",metrics_path="/metrics/cadvisor",'
           f'node="{p.node}",namespace="{p.ns}",pod="{p.name}"')
    for name, cpu, mem in p.containers:
        add("kube_pod_container_status_running", f'{k},container="{name}"', a, b)
        if cpu is not None:
            ck = f'{k},container="{name}",node="{p.node}"'
            add("kube_pod_container_resource_requests", f'{ck},resource="cpu",unit="core"', a, b,
                x=cpu)
            add("kube_pod_container_resource_requests", f'{ck},resource="memory",unit="byte"', a,
                b, x=mem)
        img = f'container="{name}",image="registry.example.com/{app}:1.4.2"'
        add("container_cpu_usage_seconds_total", f'{cad},{img},cpu="total"', a, b, "n", p.cores,
            p.reset_at)
        add("container_memory_working_set_bytes", f"{cad},{img}", a, b, "m", p.mem)
    # the pod cgroup (container="") that cAdvisor also reports; the collector must skip it
    n = len(p.containers)
    add("container_cpu_usage_seconds_total", f'{cad},container="",image="",cpu="total"', a, b,
        "n", p.cores * n, p.reset_at)
    add("container_memory_working_set_bytes", f'{cad},container="",image=""', a, b, "m",
        p.mem * n + 8 * MIB)


def write_block(path: Path, fams: dict[str, list[Series]], b0: int, b1: int, step: int) -> int:
    """OpenMetrics for samples in [b0, b1) s from T0; returns the sample count."""
    count = 0
    with path.open("w", buffering=1 << 22) as out:
        for metric, series in fams.items():
            out.write(f"# TYPE {metric} unknown\n")
            for labels, a, b, kind, x, y in series:
                first, stop = max(-(-a // step) * step, b0), min(b, b1)
                if first >= stop:
                    continue
                times = range(first, stop, step)
                count += len(times)
                head = f"{metric}{{{labels}}} "
                out.write(_lines(head, times, kind, x, y, a))
        out.write("# EOF\n")
    return count


def _lines(head: str, times: range, kind: str, x: Any, y: Any, start: int) -> str:
    if kind == "c":  # the separator trick: one C-level join for the whole series
        stamps = [f"{EPOCH + t}\n" for t in times]
        prefix = f"{head}{x} "
        return prefix + prefix.join(stamps)
    if kind == "n":  # counter from an earlier total; after a restart it starts again from 0
        base = x * 86400 * 0.3
        return "".join(
            f"{head}{(x * (t - y) if y is not None and t >= y else base + x * (t - start)):.3f}"
            f" {EPOCH + t}\n" for t in times)
    parts = []  # the working set moves once an hour: constant runs, joined like "c"
    for hour in range(times.start // 3600, (times.stop - 1) // 3600 + 1):
        run = range(max(times.start, hour * 3600), min(times.stop, hour * 3600 + 3600), times.step)
        if run:
            parts.append(_lines(head, run, "c", int(x * (1 + 0.05 * (hour % 5))), None, start))
    return "".join(parts)


# -- setup: backfill ----------------------------------------------------------------------
def backfill(c: Cluster, tsdb: Path, step: int) -> dict[str, Any]:
    """One OpenMetrics file per 2 h block, each handed to promtool while the next is written."""
    tmp = tsdb.parent / "om"
    shutil.rmtree(tsdb, ignore_errors=True)
    tmp.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fams = families(c)
    stats = {"series": sum(len(v) for v in fams.values()), "samples": 0, "om_bytes": 0,
             "generate_s": 0.0}
    pending: tuple[subprocess.Popen[bytes], Path] | None = None
    try:
        for b0 in range(0, c.span, BLOCK_S):
            path, g0 = tmp / f"block-{b0 // BLOCK_S:03d}.om", time.perf_counter()
            stats["samples"] += write_block(path, fams, b0, min(b0 + BLOCK_S, c.span), step)
            stats["om_bytes"] += path.stat().st_size
            stats["generate_s"] += time.perf_counter() - g0
            if pending:
                _finish(*pending)
            pending = (start_backfill(path, tsdb), path)
            print(f"  block {b0 // 3600:>3} h: {stats['samples']:,} samples so far",
                  file=sys.stderr, flush=True)
        if pending:
            _finish(*pending)
            pending = None
    finally:
        if pending:
            pending[0].kill()
            pending[0].wait()
        shutil.rmtree(tmp, ignore_errors=True)
    stats["wall_s"] = time.perf_counter() - t0
    stats["tsdb_bytes"] = sum(p.stat().st_size for p in tsdb.rglob("*") if p.is_file())
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in stats.items()}


def _finish(proc: subprocess.Popen[bytes], path: Path) -> None:
    finish_backfill(proc, path)
    path.unlink()


# -- the real Prometheus (tests.support.prometheus) ----------------------------------------
def prometheus_flags() -> list[str]:
    """No compaction of the backfilled 2 h blocks during the runs; long queries allowed."""
    return ["--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h",
            "--query.timeout=10m"]


def api_requests(url: str) -> dict[str, int]:
    """Requests Prometheus has answered, per query handler (its own counter)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    counts = {"/api/v1/query": 0, "/api/v1/query_range": 0}
    for match in re.finditer(r'^prometheus_http_requests_total\{([^}]*)\} (\S+)$', text, re.M):
        handler = re.search(r'handler="([^"]*)"', match.group(1))
        if handler and handler.group(1) in counts:
            counts[handler.group(1)] += int(float(match.group(2)))
    return counts


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return round(int(match.group(1)) / 1024, 1) if match else 0.0


# -- the measurement ----------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """utime + stime of a running process (to split the wall time: collector vs Prometheus)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def collect(url: str, work: Path, hours: int, prom_pid: int) -> dict[str, Any]:
    """``finops ingest prometheus`` for [T0, T0 + hours) into a fresh warehouse, as a child."""
    db = work / f"finops-{hours}h.duckdb"
    for old in work.glob(f"finops-{hours}h*"):
        old.unlink()
    end = T0 + timedelta(hours=hours)
    cmd = [str(ROOT / ".venv" / "bin" / "finops"), "--db", str(db), "ingest", "prometheus",
           "--url", url, "--start", f"{T0:%Y-%m-%dT%H:%M}Z", "--end", f"{end:%Y-%m-%dT%H:%M}Z",
           "--cluster-label", "cluster"]
    before, prom_cpu = api_requests(url), cpu_seconds(prom_pid)
    log = work / f"ingest-{hours}h.log"
    with log.open("w") as handle:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "COLUMNS": "120"})
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # interrupted: do not leave the collector running
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"finops ingest prometheus failed ({hours} h):\n"
                         f"{log.read_text()[-3000:]}")
    after = api_requests(url)
    noted = re.search(r"(\d+) queries over", log.read_text())
    return {
        "hours": hours,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "prometheus_cpu_s": round(cpu_seconds(prom_pid) - prom_cpu, 2),
        "queries": {k: after[k] - before[k] for k in after},
        "collector_queries": int(noted.group(1)) if noted else None,
        **warehouse_counts(db),
    }


def warehouse_counts(db: Path) -> dict[str, Any]:
    with duckdb.connect(str(db), read_only=True) as con:
        def one(sql: str) -> Any:
            row = con.execute(sql).fetchone()
            return row[0] if row else None

        return {
            "pod_hour_rows": one("SELECT count(*) FROM k8s_pod_hour"),
            "pods": one("SELECT count(DISTINCT pod_uid) FROM k8s_pod_hour"),
            "pod_hours_running": round(one("SELECT sum(running_seconds) FROM k8s_pod_hour") / 3600,
                                       1),
            "node_hour_rows": one("SELECT count(*) FROM k8s_node_hour"),
            "quota_hour_rows": one("SELECT count(*) FROM k8s_quota_hour"),
            "namespaces": one("SELECT count(DISTINCT namespace) FROM k8s_namespace"),
            "pod_hours_with_cpu": one(
                "SELECT count(*) FROM k8s_pod_hour WHERE cpu_usage IS NOT NULL"),
        }


def expected(c: Cluster, hours: int, step: int) -> dict[str, int]:
    """Pod-hour rows the model implies: (pod, hour) pairs with a sample in that hour."""
    rows = 0
    for p in c.pods:
        first, stop = -(-p.start // step) * step, min(p.stop, hours * 3600)
        if first < stop:
            rows += (stop - 1) // 3600 - first // 3600 + 1
    return {"pod_hour_rows": rows}


# -- the run ------------------------------------------------------------------------------
def prepare(c: Cluster, work: Path, shape: dict[str, Any]) -> dict[str, Any]:
    """The backfilled TSDB for ``shape``, reused when a previous run built the same one."""
    tsdb, marker = work / "tsdb", work / "tsdb.json"
    if marker.exists() and json.loads(marker.read_text()).get("shape") == shape:
        setup = dict(json.loads(marker.read_text())["setup"], reused=True)
        print("  reusing the backfilled TSDB", file=sys.stderr)
        return setup
    marker.unlink(missing_ok=True)
    setup = backfill(c, tsdb, shape["scrape_interval_s"])
    marker.write_text(json.dumps({"shape": shape, "setup": setup}))
    return setup


def windows(hours: int) -> list[int]:
    return sorted({h for h in (6, 12, hours) if h <= hours})


def run(args: argparse.Namespace) -> dict[str, Any]:
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    shape = {"pods": args.pods, "hours": args.hours, "scrape_interval_s": args.scrape,
             "seed": args.seed, "t0": f"{T0:%Y-%m-%d}"}
    t0 = time.perf_counter()
    c = build(args.pods, args.hours, args.seed)
    model = {"nodes": len(c.nodes), "namespaces": len(c.namespaces), "pod_objects": len(c.pods),
             "pods_running_at_mid_window": sum(
                 1 for p in c.pods if p.start <= c.span // 2 < p.stop),
             "build_s": round(time.perf_counter() - t0, 2)}
    setup = prepare(c, work, shape)
    # a lookback of half the scrape interval stands in for the staleness markers
    with prometheus(work, work / "tsdb", lookback=f"{args.scrape // 2}s",
                    flags=prometheus_flags(), timeout_s=300) as server:
        runs = []
        for hours in windows(args.hours):
            print(f"  collecting {hours} h ...", file=sys.stderr, flush=True)
            result = collect(server.url, work, hours, server.process.pid)
            result["expected_pod_hour_rows"] = expected(c, hours, args.scrape)["pod_hour_rows"]
            runs.append(result)
        prometheus_rss = peak_rss_mb(server.process.pid)
    return {"benchmark": "prometheus_collect", "date": f"{datetime.now(UTC):%Y-%m-%d}",
            "commit": _commit(), "machine": _machine(), "shape": shape, "cluster": model,
            "setup_backfill": setup, "prometheus_peak_rss_mb": prometheus_rss, "runs": runs}


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def _machine() -> str:
    return f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"


def table(result: dict[str, Any]) -> str:
    head = (f"{'window':>7} {'wall s':>8} {'cpu s':>8} {'prom cpu s':>10} {'peak RSS MB':>12} "
            f"{'query_range':>12} "
            f"{'pod-hour rows':>14} {'expected':>9} {'pods':>7}")
    lines = [head, "-" * len(head)]
    for r in result["runs"]:
        lines.append(f"{r['hours']:>6}h {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
                     f"{r['prometheus_cpu_s']:>10.1f} "
                     f"{r['peak_rss_mb']:>12.0f} {r['queries']['/api/v1/query_range']:>12} "
                     f"{r['pod_hour_rows']:>14,} {r['expected_pod_hour_rows']:>9,} "
                     f"{r['pods']:>7,}")
    s = result["setup_backfill"]
    lines.append(f"setup (not measured above): {s['series']:,} series, {s['samples']:,} samples at "
                 f"{result['shape']['scrape_interval_s']} s, generate {s['generate_s']} s, "
                 f"backfill wall {s['wall_s']} s, TSDB {s['tsdb_bytes'] / 2**20:.0f} MiB"
                 + (" (reused)" if s.get("reused") else ""))
    lines.append(f"prometheus peak RSS {result['prometheus_peak_rss_mb']:.0f} MB; "
                 f"{result['date']} @ {result['commit']}, {result['machine']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.prometheus_collect")
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--scrape", type=int, default=300, choices=(60, 300),
                        help="scrape interval of the generated series (s)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out" / "prom")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks" / "out" / "prometheus_collect.json")
    args = parser.parse_args()
    # a SIGTERM must still run the finally blocks that stop Prometheus
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(table(result))
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
