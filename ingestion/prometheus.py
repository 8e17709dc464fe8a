"""History from Prometheus (or Thanos/Mimir: same HTTP API) through an injected httpx.Client.

Every query is a range query with a 1 h step evaluated one second before each hour ends, so
a ``[1h]`` window holds exactly the samples of that hour ([h, h+1h)). The window is queried
one UTC day and one metric at a time, so memory is bounded by one day of one metric.

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

from finops.errors import CollectorError
from finops.warehouse import IngestRun, Replace, Rows, Warehouse, new_run_id
from ingestion import k8s_hours as kh
from ingestion import prom_assemble as pa
from ingestion import recorded as rec

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
    """Matrix -> long frame: a row per (series, hour); label columns, ``cluster``, ``value``."""
    rows = []
    for series in result:
        labels = dict(series.get("metric") or {})
        labels["cluster"] = labels.pop(cluster_label, "") or default_cluster
        for ts, value in series.get("values") or []:
            hour = datetime.fromtimestamp(float(ts) + 1, UTC).replace(tzinfo=None) - timedelta(
                hours=1
            )
            rows.append({**labels, "hour": hour, "value": float(value)})
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()


def days(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) cut at UTC midnights (hours only: start and end are floored to the hour)."""
    cursor = start.replace(minute=0, second=0, microsecond=0)
    while cursor < end:
        stop = min(datetime(cursor.year, cursor.month, cursor.day) + timedelta(days=1), end)
        yield cursor, stop
        cursor = stop


def collect_day(
    prom: PromClient, day_start: datetime, day_end: datetime
) -> dict[str, pl.DataFrame]:
    """All queries for one day: hourly frames per table, plus namespace observations."""
    first = day_start + timedelta(seconds=3599)
    last = day_end - timedelta(seconds=1)
    default = prom.options.cluster or "default"
    results = {
        name: to_frame(prom.range(q, first, last), prom.options.cluster_label, default)
        for name, q in queries(prom.options).items()
    }
    return pa.assemble(results, SOURCE)


def collect_to_dir(
    prom: PromClient,
    start: datetime,
    end: datetime,
    spool: Path,
    on_day: Callable[[datetime], None] | None = None,
) -> pl.DataFrame:
    """Query day by day; hourly frames go to ``spool/<table>-<n>.parquet`` (bounded memory).

    Returns the namespace observations (small: namespaces x hours), kept for the history.
    """
    observed = []
    for n, (day_start, day_end) in enumerate(days(start, end)):
        for kind, frame in collect_day(prom, day_start, day_end).items():
            if kind == "namespace":
                observed.append(frame)
            else:
                frame.write_parquet(spool / f"{TABLE_NAMES[kind]}-{n}.parquet")
        if on_day:
            on_day(day_start)
    return pl.concat(observed) if observed else pl.DataFrame()


TABLE_NAMES = {
    "node": "k8s_node_hour",
    "pod": "k8s_pod_hour",
    "quota": "k8s_quota_hour",
    "volume": "k8s_volume_hour",
    "lb": "k8s_lb_hour",
}


def ingest(
    wh: Warehouse,
    prom: PromClient,
    start: datetime,
    end: datetime,
    on_day: Callable[[datetime], None] | None = None,
) -> IngestRun:
    """Collect [start, end) and replace that window of every cluster seen, all or nothing."""
    run = IngestRun(new_run_id(SOURCE), SOURCE, start, end, [prom.options.url])
    with tempfile.TemporaryDirectory(prefix="finops-prom-") as tmp:
        spool = Path(tmp)
        try:
            observed = collect_to_dir(prom, start, end, spool, on_day)
        except CollectorError as exc:
            wh.record_failure(run, str(exc))
            raise
        clusters = wh.con.execute(
            f"SELECT DISTINCT cluster FROM read_parquet('{spool}/k8s_node_hour-*.parquet')"
        ).fetchall()
        if not clusters:
            error = CollectorError(
                SOURCE,
                f"no kube-state-metrics node series between {start} and "
                f"{end} (is kube-state-metrics scraped?)",
                query=queries(prom.options)["node_info"],
            )
            wh.record_failure(run, str(error))
            raise error
        spans = {row[0]: (start, end) for row in clusters}
        rows: dict[str, Rows] = {
            name: rec.parquet_select(rec.TABLES[name], f"{spool}/{name}-*.parquet")
            for name in TABLE_NAMES.values()
        }
        replaces = rec.hourly_replaces(rows, spans)
        replaces += _namespace_replaces(wh, observed, spans, end)
        return wh.load(run, replaces)


def _namespace_replaces(
    wh: Warehouse, observed: pl.DataFrame, spans: dict[str, rec.Window], end: datetime
) -> list[Replace]:
    """Label history: the window's intervals merged into each cluster's existing history."""
    out = []
    for cluster, (start, stop) in spans.items():
        mine = observed.filter(pl.col("cluster") == cluster) if observed.height else observed
        new = (
            kh.namespace_intervals(mine, open_end=end, step=kh.HOUR)
            if mine.height
            else pl.DataFrame(schema=kh.K8S_NAMESPACE.schema).drop("x_source")
        )
        existing = wh.frame("SELECT * FROM k8s_namespace WHERE cluster = $c", {"c": cluster})
        merged = kh.merge_namespace_history(existing, new, start, stop, SOURCE)
        out.append(Replace(kh.K8S_NAMESPACE, merged, "cluster = $c", {"c": cluster}))
    return out
