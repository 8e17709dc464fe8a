"""History from Prometheus (or Thanos/Mimir: same HTTP API) through an injected httpx.Client.

Every query is a range query with a 1 h step evaluated one second before each hour ends, so
a ``[1h]`` window holds exactly the samples of that hour ([h, h+1h)). The window is queried
in chunks of ``chunk_hours`` (default 6: 00-06, 06-12, ... UTC) and one metric at a time;
each answer is spooled to Parquet before the next query, and each chunk's tables are
assembled and spooled before the next chunk, so peak memory is bounded by one chunk of the
cluster, not the window (10,000 pods: ~470 MB for 6, 12 and 24 h; benchmarks/README.md).

Query shapes (``C`` = the cluster label, ``R`` = the resolution, default 5 m):
- running seconds: ``sum_over_time((max by (C, …) (kube_pod_container_status_running))[1h:R]) * R``
  - a subquery at resolution R, so a 20-minute job inside a 1 h step counts 1200 s;
- duplicated kube-state-metrics replicas: every KSM series is reduced with ``max`` over its
  identifying labels (or ``max without (instance, job, …)``), never summed;
- CPU: ``increase(container_cpu_usage_seconds_total[1h])`` (handles counter resets) divided by
  the pod's running seconds -> average cores over running time;
- memory: the per-pod sum of working sets, averaged over the resolution points it was seen.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from ingestion.k8s import hours as kh
from ingestion.k8s import prom_assemble as pa
from ingestion.k8s import recorded as rec
from models.errors import CollectorError
from models.loads import FrameReader, IngestRun, Load, Replace, Rows
from models.schemas import K8S_HOURLY, K8S_NAMESPACE, K8S_NODE_HOUR

SOURCE = "prometheus"
# Labels the scrape adds (which KSM replica, which Prometheus replica): dropped before max so
# two replicas collapse into one series. ``pod``/``container`` too, except on pod metrics,
# where they name the pod the series is about (KSM's own labels win with honor_labels).
DEDUPE_DROP = (
    "instance",
    "job",
    "endpoint",
    "kubernetes_pod_name",
    "kubernetes_namespace",
    "prometheus",
    "prometheus_replica",
)


@dataclass(frozen=True)
class PromOptions:
    url: str
    cluster_label: str = "cluster"
    cluster: str | None = None  # only this cluster; also the name when series lack the label
    resolution_s: int = 300
    retries: int = 3
    backoff_s: float = 0.5
    # Hours per query window. Memory grows with it (a 24 h chunk of 10,000 pods peaks near
    # 1 GB, 6 h near a third of that); queries per day = 31 * 24 / chunk_hours.
    chunk_hours: int = 6


class PromClient:
    """Range queries with retries; every failure is a CollectorError naming the query."""

    def __init__(self, http: httpx.Client, options: PromOptions) -> None:
        self.http, self.options, self.queries = http, options, 0

    def range(self, query: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        params = {"query": query, "start": _unix(start), "end": _unix(end), "step": "3600"}
        url = self.options.url.rstrip("/") + "/api/v1/query_range"
        for attempt in range(self.options.retries + 1):
            self.queries += 1
            try:
                response = self.http.post(url, data=params)
            except httpx.HTTPError as exc:  # unreachable, timeout, reset
                if attempt == self.options.retries:
                    raise CollectorError(
                        SOURCE, f"{type(exc).__name__}: {exc} ({url})", query=query
                    ) from None
            else:
                if response.status_code < 500 and response.status_code != 429:
                    return _result(response, query)
                if attempt == self.options.retries:
                    raise CollectorError(
                        SOURCE,
                        f"HTTP {response.status_code} from {url} after {attempt + 1} attempts",
                        query=query,
                    )
            time.sleep(self.options.backoff_s * 2**attempt)
        raise AssertionError("unreachable")


def _unix(ts: datetime) -> str:
    return f"{ts.replace(tzinfo=UTC).timestamp():.3f}"


def _result(response: httpx.Response, query: str) -> list[dict[str, Any]]:
    if response.status_code in (401, 403):
        what = (
            "unauthorized (check the bearer token / password)"
            if response.status_code == 401
            else "forbidden (the credentials may not read this tenant)"
        )
        raise CollectorError(SOURCE, f"HTTP {response.status_code} {what}", query=query)
    try:
        body = response.json()
    except ValueError:
        raise CollectorError(
            SOURCE,
            f"malformed JSON (HTTP {response.status_code}): {response.text[:200]!r}",
            query=query,
        ) from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else body
        raise CollectorError(
            SOURCE, f"query failed (HTTP {response.status_code}): {error}", query=query
        )
    data = body.get("data") or {}
    if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise CollectorError(SOURCE, f"unexpected answer shape: {str(data)[:200]}", query=query)
    return list(data["result"])


def queries(options: PromOptions) -> dict[str, str]:
    """Every PromQL query the collector runs, by name (see the module doc for the shapes)."""
    c, r = options.cluster_label, options.resolution_s
    m = f'{c}=~"{options.cluster}|"' if options.cluster else ""
    drop = ", ".join(DEDUPE_DROP)

    def sel(metric: str, extra: str = "") -> str:
        matchers = ", ".join(x for x in (m, extra) if x)
        return f"{metric}{{{matchers}}}" if matchers else metric

    def by(labels: str, inner: str) -> str:
        return f"max by ({c}, {labels}) ({inner})"

    def running(labels: str, metric: str, extra: str = "") -> str:
        return f"sum_over_time(({by(labels, sel(metric, extra))})[1h:{r}s]) * {r}"

    def label_sets(metric: str) -> str:
        dropped = drop if metric.startswith("kube_pod_") else f"{drop}, pod, container"
        return f"max without ({dropped}) (count_over_time({sel(metric)}[1h]))"

    workload = {
        f"labels_{k}": label_sets(f"kube_{k}_labels")
        for k in ("deployment", "statefulset", "daemonset", "job", "cronjob")
    }
    no_pause = 'container!="", container!="POD"'
    return {
        "node_info": by("node, provider_id", f"max_over_time({sel('kube_node_info')}[1h])"),
        "node_running": running("node", "kube_node_info"),
        "node_labels": label_sets("kube_node_labels"),
        "node_capacity": by(
            "node, resource", f"avg_over_time({sel('kube_node_status_capacity')}[1h])"
        ),
        "node_allocatable": by(
            "node, resource", f"avg_over_time({sel('kube_node_status_allocatable')}[1h])"
        ),
        "pod_info": by("namespace, pod, uid, node", f"max_over_time({sel('kube_pod_info')}[1h])"),
        "pod_running": running("namespace, pod, uid", "kube_pod_container_status_running"),
        "requests": by(
            "namespace, pod, uid, container, resource",
            "max_over_time(" + sel("kube_pod_container_resource_requests") + "[1h])",
        ),
        "init_requests": by(
            "namespace, pod, uid, container, resource",
            "max_over_time(" + sel("kube_pod_init_container_resource_requests") + "[1h])",
        ),
        "pod_labels": label_sets("kube_pod_labels"),
        "pod_owner": by(
            "namespace, pod, uid, owner_kind, owner_name",
            f"max_over_time({sel('kube_pod_owner')}[1h])",
        ),
        "replicaset_owner": by(
            "namespace, replicaset, owner_kind, owner_name",
            f"max_over_time({sel('kube_replicaset_owner')}[1h])",
        ),
        "job_owner": by(
            "namespace, job_name, owner_kind, owner_name",
            f"max_over_time({sel('kube_job_owner')}[1h])",
        ),
        **workload,
        "cpu": f"sum by ({c}, namespace, pod, node) (increase("
        f"{sel('container_cpu_usage_seconds_total', no_pause)}[1h]))",
        "memory": f"avg_over_time((sum by ({c}, namespace, pod, node) ("
        f"{sel('container_memory_working_set_bytes', no_pause)}))[1h:{r}s])",
        "namespace_labels": label_sets("kube_namespace_labels"),
        "namespace_annotations": label_sets("kube_namespace_annotations"),
        "quota": by(
            "namespace, resourcequota, resource, type",
            f"avg_over_time({sel('kube_resourcequota')}[1h])",
        ),
        "pvc_info": by(
            "namespace, persistentvolumeclaim, storageclass, volumename",
            f"max_over_time({sel('kube_persistentvolumeclaim_info')}[1h])",
        ),
        "pv_info": f"max without ({drop}, pod, container) (max_over_time("
        f"{sel('kube_persistentvolume_info')}[1h]))",
        "pv_capacity": by(
            "persistentvolume", f"avg_over_time({sel('kube_persistentvolume_capacity_bytes')}[1h])"
        ),
        "pv_running": running("persistentvolume", "kube_persistentvolume_info"),
        "pod_pvc": by(
            "namespace, pod, persistentvolumeclaim",
            "max_over_time(" + sel("kube_pod_spec_volumes_persistentvolumeclaims_info") + "[1h])",
        ),
        "lb_running": running(
            "namespace, service", "kube_service_spec_type", 'type="LoadBalancer"'
        ),
        "lb_ingress": by(
            "namespace, service, ip, hostname",
            f"max_over_time({sel('kube_service_status_load_balancer_ingress')}[1h])",
        ),
        "lb_labels": label_sets("kube_service_labels"),
    }


def to_frame(
    result: list[dict[str, Any]], cluster_label: str, default_cluster: str
) -> pl.DataFrame:
    """Matrix -> long frame: a row per (series, hour); label columns, ``cluster``, ``value``.

    Built column by column (a 10,000-pod day is ~10^6 points: a dict per point would take
    gigabytes); label columns are per series, then repeated over the series' points.
    """
    if not result:
        return pl.DataFrame()
    metrics = [series.get("metric") or {} for series in result]
    points = [series.get("values") or [] for series in result]
    keys = sorted({k for m in metrics for k in m} - {cluster_label, "cluster"})
    labels = pl.DataFrame(
        {
            **{k: pl.Series(k, [m.get(k) for m in metrics], pl.String) for k in keys},
            "cluster": pl.Series([m.get(cluster_label) or default_cluster for m in metrics]),
        }
    )
    repeat = pl.Series([len(p) for p in points], dtype=pl.UInt32)
    index = pl.Series(range(len(points)), dtype=pl.UInt32)
    rows = index.repeat_by(repeat).explode(empty_as_null=False)
    stamps = pl.Series([float(v[0]) for p in points for v in p], dtype=pl.Float64)
    values = pl.Series([str(v[1]) for p in points for v in p], dtype=pl.String)
    del metrics, points
    if not len(rows):
        return pl.DataFrame()
    # each step is evaluated one second before its hour ends: the row's hour is (ts + 1) - 1h
    hour = pl.from_epoch(((stamps + 1 - 3600) * 1_000_000).round().cast(pl.Int64), "us")
    return labels[rows].with_columns(hour=hour, value=values.cast(pl.Float64))


def days(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) cut at UTC midnights (hours only: start and end are floored to the hour)."""
    cursor = start.replace(minute=0, second=0, microsecond=0)
    while cursor < end:
        stop = min(datetime(cursor.year, cursor.month, cursor.day) + timedelta(days=1), end)
        yield cursor, stop
        cursor = stop


def chunks(
    day_start: datetime, day_end: datetime, hours: int
) -> Iterator[tuple[datetime, datetime]]:
    """[day_start, day_end) (within one UTC day) cut every ``hours`` hours from midnight."""
    midnight = datetime(day_start.year, day_start.month, day_start.day)
    cursor = day_start
    while cursor < day_end:
        since = (cursor - midnight) // timedelta(hours=hours) + 1
        stop = min(midnight + timedelta(hours=hours * since), day_end)
        yield cursor, stop
        cursor = stop


def collect_chunk(
    prom: PromClient, day_start: datetime, day_end: datetime
) -> dict[str, pl.DataFrame]:
    """All queries for one chunk: hourly frames per table, plus namespace observations."""
    first = day_start + timedelta(seconds=3599)
    last = day_end - timedelta(seconds=1)
    default = prom.options.cluster or "default"
    results = {}
    with tempfile.TemporaryDirectory(prefix="finops-promq-") as tmp:
        # one query in memory at a time: each answer is spooled before the next is asked
        for name, q in queries(prom.options).items():
            frame = to_frame(prom.range(q, first, last), prom.options.cluster_label, default)
            if frame.width:
                frame.write_parquet(Path(tmp) / f"{name}.parquet")
            del frame
        for name in queries(prom.options):
            path = Path(tmp) / f"{name}.parquet"
            results[name] = pl.read_parquet(path) if path.exists() else pl.DataFrame()
    return pa.assemble(results, SOURCE)


def collect_to_dir(
    prom: PromClient,
    start: datetime,
    end: datetime,
    spool: Path,
    on_day: Callable[[datetime], None] | None = None,
) -> pl.DataFrame:
    """Query chunk by chunk; hourly frames go to ``spool/<table>-<day>-<chunk>.parquet``.

    Returns the namespace observations (small: namespaces x hours), kept for the history.
    """
    tables = {hourly.kind: hourly.table.name for hourly in K8S_HOURLY}
    observed = []
    for n, (day_start, day_end) in enumerate(days(start, end)):
        for m, (c0, c1) in enumerate(chunks(day_start, day_end, prom.options.chunk_hours)):
            for kind, frame in collect_chunk(prom, c0, c1).items():
                if kind == "namespace":
                    observed.append(frame)
                else:
                    frame.write_parquet(spool / f"{tables[kind]}-{n}-{m}.parquet")
        if on_day:
            on_day(day_start)
    return pl.concat(observed) if observed else pl.DataFrame()


def history_load(
    prom: PromClient,
    start: datetime,
    end: datetime,
    spool: Path,
    history: FrameReader,
    on_day: Callable[[datetime], None] | None = None,
) -> Load:
    """Collect [start, end) into ``spool`` (it must outlive the load): one load replacing that
    window of every cluster seen; ``history`` reads the label history it extends."""
    observed = collect_to_dir(prom, start, end, spool, on_day)
    nodes = pl.scan_parquet(spool / f"{K8S_NODE_HOUR.name}-*.parquet")
    clusters = nodes.select("cluster").unique().collect().to_series().to_list()
    if not clusters:
        raise CollectorError(
            SOURCE,
            f"no kube-state-metrics node series between {start} and "
            f"{end} (is kube-state-metrics scraped?)",
            query=queries(prom.options)["node_info"],
        )
    spans = dict.fromkeys(clusters, (start, end))
    rows: dict[str, Rows] = {}
    for hourly in K8S_HOURLY:
        files = f"{spool}/{hourly.table.name}-*.parquet"
        rows[hourly.table.name] = rec.parquet_select(hourly.table, files)
    replaces = rec.hourly_replaces(rows, spans)
    replaces += _namespace_replaces(history, observed, spans, end)
    return Load(IngestRun.begin(SOURCE, [prom.options.url], start, end), replaces)


def _namespace_replaces(
    history: FrameReader, observed: pl.DataFrame, spans: dict[str, rec.Window], end: datetime
) -> list[Replace]:
    """Label history: the window's intervals merged into each cluster's existing history."""
    out = []
    for cluster, (start, stop) in spans.items():
        mine = observed.filter(pl.col("cluster") == cluster) if observed.height else observed
        new = (
            kh.namespace_intervals(mine, open_end=end, step=kh.HOUR)
            if mine.height
            else pl.DataFrame(schema=K8S_NAMESPACE.schema).drop("x_source")
        )
        existing = history.frame("SELECT * FROM k8s_namespace WHERE cluster = $c",
                                 {"c": cluster})
        merged = kh.merge_namespace_history(existing, new, start, stop, SOURCE)
        out.append(Replace(K8S_NAMESPACE, merged, "cluster = $c", {"c": cluster}))
    return out
