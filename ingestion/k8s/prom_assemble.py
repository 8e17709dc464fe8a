"""Turn one day of Prometheus query results (long frames) into the hourly warehouse tables.

Pure Polars, no I/O: ``assemble(results, source)`` takes the frames ``ingestion.k8s.prometheus``
built (label columns + ``cluster``, ``hour``, ``value``) keyed by query name and returns
frames for ``k8s_node_hour``, ``k8s_pod_hour``, ``k8s_quota_hour``, ``k8s_volume_hour``,
``k8s_lb_hour`` and the namespace observations (``namespace``) that become label history.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ingestion.k8s import hours as kh
from models.schemas import (
    F64,
    K8S_LB_HOUR,
    K8S_NODE_HOUR,
    K8S_POD_HOUR,
    K8S_QUOTA_HOUR,
    K8S_VOLUME_HOUR,
    MAP,
    STR,
    TS,
    Table,
    conform,
)

Results = dict[str, pl.DataFrame]
NO_OWNER = ("", "<none>")


def _fit(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """The table's columns of ``frame`` (absent ones null), conformed to its schema."""
    return conform(frame.select([c for c in table.columns if c in frame.columns]), table)


def need(frame: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """``frame`` with at least ``cols`` (missing label columns are empty strings)."""
    if frame.is_empty():
        frame = pl.DataFrame(schema={"cluster": STR, "hour": TS, "value": F64})
    missing = [pl.lit("", STR).alias(c) for c in cols if c not in frame.columns]
    return frame.with_columns(missing).with_columns(pl.col(c).fill_null("") for c in cols)


def label_map(frame: pl.DataFrame, prefix: str, alias: str) -> pl.Expr:
    """The ``<prefix>*`` columns as a MAP of their non-empty values (prefix stripped)."""
    cols = sorted(c for c in frame.columns if c.startswith(prefix))
    if not cols:
        return pl.lit([], MAP).alias(alias)
    entries = pl.concat_list(
        [pl.struct(key=pl.lit(c[len(prefix) :]), value=pl.col(c)) for c in cols]
    )
    keep = pl.element().struct.field("value").fill_null("") != ""
    return entries.list.eval(pl.element().filter(keep)).alias(alias)


def best_labels(
    frame: pl.DataFrame, keys: list[str], prefix: str = "label_", alias: str = "labels"
) -> pl.DataFrame:
    """Per (keys, hour) the label set seen most often that hour (labels changing mid-hour)."""
    frame = need(frame, keys)
    best = frame.sort("value", descending=True).group_by([*keys, "hour"]).first()
    return best.select(*keys, "hour", label_map(best, prefix, alias))


def pivot_resources(frame: pl.DataFrame, keys: list[str], agg: str) -> pl.DataFrame:
    """(keys, resource, hour, value) -> one column per resource (cpu, memory, nvidia_com_gpu)."""
    frame = need(frame, [*keys, "resource"])
    grouped = frame.group_by([*keys, "hour", "resource"]).agg(getattr(pl.col("value"), agg)())
    out = (
        grouped.pivot(on="resource", index=[*keys, "hour"], values="value")
        if grouped.height
        else grouped.select(*keys, "hour")
    )
    return out.with_columns(
        pl.lit(None, F64).alias(r)
        for r in ("cpu", "memory", "nvidia_com_gpu")
        if r not in out.columns
    )


def nodes(r: Results, source: str) -> pl.DataFrame:
    keys = ["cluster", "node"]
    run = (
        need(r["node_running"], keys)
        .filter(pl.col("value") > 0)
        .select(*keys, "hour", running_seconds="value")
    )
    info = (
        need(r["node_info"], [*keys, "provider_id"])
        .group_by([*keys, "hour"])
        .agg(pl.col("provider_id").max())
    )
    cap = pivot_resources(r["node_capacity"], keys, "max").rename(
        {"cpu": "capacity_cpu", "memory": "capacity_memory", "nvidia_com_gpu": "capacity_gpu"}
    )
    alloc = pivot_resources(r["node_allocatable"], keys, "max").select(
        *keys, "hour", allocatable_cpu="cpu", allocatable_memory="memory"
    )
    out = run
    for other in (info, best_labels(r["node_labels"], keys), cap, alloc):
        out = out.join(other, on=[*keys, "hour"], how="left")
    derived = [_node_derived(v) for v in out["labels"].to_list()]
    out = out.with_columns(
        pl.Series("instance_type", [d[0] for d in derived], STR),
        pl.Series("region", [d[1] for d in derived], STR),
        pl.Series("zone", [d[2] for d in derived], STR),
        pl.Series("spot", [d[3] for d in derived], pl.Boolean),
        pl.col("provider_id").replace("", None),
        pl.col("capacity_gpu").fill_null(0.0),
        x_source=pl.lit(source),
    )
    return _fit(out, K8S_NODE_HOUR)


def _node_derived(entries: Any) -> tuple[str | None, str | None, str | None, bool]:
    labels = {e["key"]: e["value"] for e in entries or []}
    return (
        kh.first_label(labels, kh.INSTANCE_TYPE_LABELS),
        kh.first_label(labels, kh.REGION_LABELS),
        kh.first_label(labels, kh.ZONE_LABELS),
        kh.is_spot(labels),
    )


def _requests(r: Results, keys: list[str]) -> pl.DataFrame:
    app = pivot_resources(need(r["requests"], [*keys, "container"]), keys, "sum")
    init = pivot_resources(need(r["init_requests"], [*keys, "container"]), keys, "max")
    both = app.join(init, on=[*keys, "hour"], how="full", coalesce=True, suffix="_init")
    return both.select(
        *keys,
        "hour",
        *[
            pl.max_horizontal(pl.col(a).fill_null(0.0), pl.col(f"{a}_init").fill_null(0.0)).alias(b)
            for a, b in (
                ("cpu", "cpu_request"),
                ("memory", "memory_request"),
                ("nvidia_com_gpu", "gpu_request"),
            )
        ],
    )


def _owners(r: Results, keys: list[str]) -> pl.DataFrame:
    """The workload of each pod-hour, following ReplicaSet -> Deployment and Job -> CronJob."""
    owner = need(r["pod_owner"], [*keys, "owner_kind", "owner_name"]).filter(
        ~pl.col("owner_kind").is_in(NO_OWNER)
    )
    rs = need(
        r["replicaset_owner"], ["cluster", "namespace", "replicaset", "owner_kind", "owner_name"]
    )
    job = need(r["job_owner"], ["cluster", "namespace", "job_name", "owner_kind", "owner_name"])
    index: dict[str, dict[tuple[str, str, str], kh.Owner]] = {}
    for name, frame, col in (("rs", rs, "replicaset"), ("job", job, "job_name")):
        index[name] = {
            (row["cluster"], row["namespace"], row[col]): (row["owner_kind"], row["owner_name"])
            for row in frame.filter(~pl.col("owner_kind").is_in(NO_OWNER)).iter_rows(named=True)
        }
    resolved = []
    for row in (
        owner.select("cluster", "namespace", "owner_kind", "owner_name")
        .unique()
        .iter_rows(named=True)
    ):
        c, ns = row["cluster"], row["namespace"]
        kind, name = kh.resolve_owner(
            (row["owner_kind"], row["owner_name"]),
            ns,
            {(n, rs_name): o for (cc, n, rs_name), o in index["rs"].items() if cc == c},
            {(n, j): o for (cc, n, j), o in index["job"].items() if cc == c},
        ) or ("", "")
        resolved.append({**row, "workload_kind": kind, "workload_name": name})
    table = pl.DataFrame(
        resolved,
        schema={
            "cluster": STR,
            "namespace": STR,
            "owner_kind": STR,
            "owner_name": STR,
            "workload_kind": STR,
            "workload_name": STR,
        },
    )
    joined = owner.join(table, on=["cluster", "namespace", "owner_kind", "owner_name"], how="left")
    return joined.group_by([*keys, "hour"]).agg(
        pl.col("workload_kind").first(), pl.col("workload_name").first()
    )


WORKLOAD_LABELS = {
    "Deployment": ("labels_deployment", "deployment"),
    "StatefulSet": ("labels_statefulset", "statefulset"),
    "DaemonSet": ("labels_daemonset", "daemonset"),
    "Job": ("labels_job", "job_name"),
    "CronJob": ("labels_cronjob", "cronjob"),
}


def _workload_labels(r: Results) -> pl.DataFrame:
    parts = []
    for kind, (query, col) in WORKLOAD_LABELS.items():
        best = best_labels(r[query], ["cluster", "namespace", col], alias="workload_labels")
        parts.append(
            best.select(
                "cluster",
                "namespace",
                pl.lit(kind).alias("workload_kind"),
                pl.col(col).alias("workload_name"),
                "hour",
                "workload_labels",
            )
        )
    return pl.concat(parts)


def _usage(r: Results, base: pl.DataFrame) -> pl.DataFrame:
    """Join cAdvisor usage by (namespace, pod, node) when series carry ``node``, else by name."""
    keys = ["cluster", "namespace", "pod"]
    cpu = need(r["cpu"], [*keys, "node"]).rename({"value": "cpu_seconds"})
    mem = need(r["memory"], [*keys, "node"]).rename({"value": "memory_usage"})
    usage = cpu.join(mem, on=[*keys, "node", "hour"], how="full", coalesce=True)
    by_node = base.join(usage.filter(pl.col("node") != ""), on=[*keys, "node", "hour"], how="left")
    nameless = usage.filter(pl.col("node") == "").drop("node")
    total = base.group_by([*keys, "hour"]).agg(pl.col("running_seconds").sum().alias("_name_run"))
    by_name = by_node.join(nameless, on=[*keys, "hour"], how="left", suffix="_n").join(
        total, on=[*keys, "hour"], how="left"
    )
    return by_name.with_columns(
        cpu_usage=pl.coalesce(
            pl.col("cpu_seconds") / pl.col("running_seconds"),
            pl.col("cpu_seconds_n") / pl.col("_name_run"),
        ),
        memory_usage=pl.coalesce("memory_usage", "memory_usage_n"),
    )


def pods(r: Results, source: str) -> pl.DataFrame:
    keys = ["cluster", "namespace", "pod", "uid"]
    run = (
        need(r["pod_running"], keys)
        .filter(pl.col("value") > 0)
        .select(*keys, "hour", running_seconds="value")
    )
    info = (
        need(r["pod_info"], [*keys, "node"])
        .group_by([*keys, "hour"])
        .agg(pl.col("node").filter(pl.col("node") != "").max())
    )
    out = run.join(info, on=[*keys, "hour"], how="left").with_columns(pl.col("node").fill_null(""))
    for other in (_requests(r, keys), _owners(r, keys), best_labels(r["pod_labels"], keys)):
        out = out.join(other, on=[*keys, "hour"], how="left")
    out = out.join(
        _workload_labels(r),
        on=["cluster", "namespace", "workload_kind", "workload_name", "hour"],
        how="left",
    )
    out = _usage(r, out).with_columns(
        pl.col(c).fill_null(0.0) for c in ("cpu_request", "memory_request", "gpu_request")
    )
    out = out.with_columns(
        pl.col("node").replace("", None),
        pl.col("workload_kind").replace("", None),
        pl.col("workload_name").replace("", None),
        pl.col("labels").fill_null([]),
        pl.col("workload_labels").fill_null([]),
        pod_uid="uid",
        x_source=pl.lit(source),
    )
    return _fit(out, K8S_POD_HOUR)


def quotas(r: Results, source: str) -> pl.DataFrame:
    keys = ["cluster", "namespace", "resourcequota", "resource"]
    frame = need(r["quota"], [*keys, "type"])
    wide = frame.group_by([*keys, "hour"]).agg(
        pl.col("value").filter(pl.col("type") == "hard").max().alias("hard"),
        pl.col("value").filter(pl.col("type") == "used").max().alias("used"),
    )
    out = wide.rename({"resourcequota": "quota"}).with_columns(x_source=pl.lit(source))
    return _fit(out, K8S_QUOTA_HOUR)


def _volume_id() -> pl.Expr:
    parts = [
        pl.col(c).replace("", None)
        for c in (
            "csi_volume_handle",
            "ebs_volume_id",
            "gce_persistent_disk_name",
            "azure_disk_name",
        )
    ]
    return pl.coalesce(parts).str.split("/").list.last().alias("volume_id")


def volumes(r: Results, source: str) -> pl.DataFrame:
    pv_cols = [
        "cluster",
        "persistentvolume",
        "storageclass",
        "csi_volume_handle",
        "ebs_volume_id",
        "gce_persistent_disk_name",
        "azure_disk_name",
    ]
    run = (
        need(r["pv_running"], ["cluster", "persistentvolume"])
        .filter(pl.col("value") > 0)
        .select("cluster", "persistentvolume", "hour", running_seconds="value")
    )
    info = (
        need(r["pv_info"], pv_cols)
        .group_by(["cluster", "persistentvolume", "hour"])
        .agg(pl.col("storageclass").max(), _volume_id().max())
    )
    size = need(r["pv_capacity"], ["cluster", "persistentvolume"]).select(
        "cluster", "persistentvolume", "hour", size_bytes="value"
    )
    pvc = (
        need(r["pvc_info"], ["cluster", "namespace", "persistentvolumeclaim", "volumename"])
        .filter(pl.col("volumename") != "")
        .group_by(["cluster", "volumename", "hour"])
        .agg(pl.col("namespace").max(), pl.col("persistentvolumeclaim").max().alias("claim"))
    )
    mounts = (
        need(r["pod_pvc"], ["cluster", "namespace", "pod", "persistentvolumeclaim"])
        .group_by(["cluster", "namespace", "persistentvolumeclaim", "hour"])
        .agg(pl.col("pod").unique().sort().alias("mounting_pods"))
        .rename({"persistentvolumeclaim": "claim"})
    )
    out = (
        run.join(info, on=["cluster", "persistentvolume", "hour"], how="left")
        .join(size, on=["cluster", "persistentvolume", "hour"], how="left")
        .rename({"persistentvolume": "volume_name", "storageclass": "storage_class"})
    )
    out = out.join(
        pvc.rename({"volumename": "volume_name"}), on=["cluster", "volume_name", "hour"], how="left"
    ).join(mounts, on=["cluster", "namespace", "claim", "hour"], how="left")
    out = out.with_columns(pl.col("mounting_pods").fill_null([]), x_source=pl.lit(source))
    return _fit(out, K8S_VOLUME_HOUR)


def load_balancers(r: Results, source: str) -> pl.DataFrame:
    keys = ["cluster", "namespace", "service"]
    run = (
        need(r["lb_running"], keys)
        .filter(pl.col("value") > 0)
        .select(*keys, "hour", running_seconds="value")
    )
    ingress = (
        need(r["lb_ingress"], [*keys, "ip", "hostname"])
        .group_by([*keys, "hour"])
        .agg(
            pl.coalesce(pl.col("hostname").replace("", None), pl.col("ip").replace("", None))
            .max()
            .alias("ingress")
        )
    )
    out = run.join(ingress, on=[*keys, "hour"], how="left").join(
        best_labels(r["lb_labels"], keys), on=[*keys, "hour"], how="left"
    )
    out = out.with_columns(pl.col("labels").fill_null([]), x_source=pl.lit(source))
    return _fit(out, K8S_LB_HOUR)


def namespaces(r: Results) -> pl.DataFrame:
    """Namespace observations per hour: (cluster, ts=hour, namespace, labels, annotations)."""
    keys = ["cluster", "namespace"]
    labels = best_labels(r["namespace_labels"], keys)
    notes = best_labels(r["namespace_annotations"], keys, "annotation_", "annotations")
    out = labels.join(notes, on=[*keys, "hour"], how="left").with_columns(
        pl.col("annotations").fill_null([])
    )
    return out.select("cluster", pl.col("hour").alias("ts"), "namespace", "labels", "annotations")


def assemble(r: Results, source: str) -> dict[str, pl.DataFrame]:
    return {
        "node": nodes(r, source),
        "pod": pods(r, source),
        "quota": quotas(r, source),
        "volume": volumes(r, source),
        "lb": load_balancers(r, source),
        "namespace": namespaces(r),
    }
