"""One synthetic day for the allocation engine: profile and time ``allocate_day`` in-process.

    python -m benchmarks.engine_day [--pods 50000 --nodes 2000 --clusters 3 --lines 300000]
                                    [--profile out.prof] [--cache /tmp/engine_day]

The day is generated with Polars expressions only (no numpy), written once to Parquet under
``--cache`` and read back, so the measured run holds only what the engine needs: the inputs
as the runner would read them, then the engine. Prints one JSON line: wall seconds of the
engine, its CPU seconds (both cores; on a shared machine wall time is noisy), peak RSS of
the process (``ru_maxrss``), pod-hours, bill lines and output rows.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import resource
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from finops.allocation.engine import allocate_day
from finops.allocation.inputs import AllocationInputs
from models.config import parse_config

DAY = date(2026, 10, 7)
T0 = datetime(2026, 10, 7)
GIB = 1024.0**3
TEAMS = ["payments", "search", "checkout", "data", "ml", "platform", "web", "mobile"]


def _rand(col: str, seed: int, mod: int) -> pl.Expr:
    """A deterministic pseudo-random int in [0, mod) from an integer column."""
    return (pl.col(col).hash(seed) % mod).cast(pl.Int64)


def _map(key: str, value: pl.Expr) -> pl.Expr:
    return pl.concat_list(pl.struct(pl.lit(key).alias("key"), value.alias("value")))


def _hours() -> pl.DataFrame:
    return pl.DataFrame({"h": range(24)}).with_columns(
        (pl.lit(T0) + pl.duration(hours=pl.col("h"))).alias("hour"))


def nodes(n: int, clusters: int) -> pl.DataFrame:
    base = pl.DataFrame({"i": range(n)}).with_columns(
        ("c" + (pl.col("i") % clusters).cast(pl.String)).alias("cluster"),
        ("ip-10-" + pl.col("i").cast(pl.String)).alias("node"),
        ("i-" + pl.col("i").cast(pl.String).str.zfill(17)).alias("_iid"),
        pl.when(_rand("i", 1, 10) == 0).then(8.0).otherwise(16.0).alias("capacity_cpu"),
    )
    return base.join(_hours(), how="cross").with_columns(
        ("aws:///us-east-1a/" + pl.col("_iid")).alias("provider_id"),
        pl.lit("m5.4xlarge").alias("instance_type"), pl.lit("us-east-1").alias("region"),
        pl.lit("us-east-1a").alias("zone"),
        (pl.col("capacity_cpu") * 4 * GIB).alias("capacity_memory"),
        pl.lit(0.0).alias("capacity_gpu"), pl.col("capacity_cpu").alias("allocatable_cpu"),
        (pl.col("capacity_cpu") * 3.8 * GIB).alias("allocatable_memory"),
        pl.lit(False).alias("spot"),
        _map("node.kubernetes.io/instance-type", pl.lit("m5.4xlarge")).alias("labels"),
        pl.lit(3600.0).alias("running_seconds"),
    ).drop("i", "h", "_iid")


def pods(n: int, n_nodes: int, clusters: int) -> pl.DataFrame:
    """Pods spread over nodes; ~10 pods a workload, ~100 namespaces a cluster."""
    base = pl.DataFrame({"i": range(n)}).with_columns(
        (_rand("i", 2, n_nodes)).alias("_node"),
        (pl.col("i") // 10).alias("_wl"),
    ).with_columns(
        ("c" + (pl.col("_node") % clusters).cast(pl.String)).alias("cluster"),
        ("ip-10-" + pl.col("_node").cast(pl.String)).alias("node"),
        ("ns-" + (_rand("_wl", 3, 100)).cast(pl.String)).alias("namespace"),
        ("wl-" + pl.col("_wl").cast(pl.String)).alias("workload_name"),
        ("pod-" + pl.col("i").cast(pl.String)).alias("pod"),
        pl.lit(TEAMS).list.get(_rand("_wl", 4, len(TEAMS))).alias("_team"),
        (_rand("i", 5, 40) * 0.05 + 0.05).alias("cpu_request"),
        ((_rand("i", 6, 16) + 1) * 0.25 * GIB).alias("memory_request"),
    )
    hourly = base.join(_hours(), how="cross").with_columns(
        ("uid-" + pl.col("i").cast(pl.String)).alias("pod_uid"),
        pl.lit("Deployment").alias("workload_kind"), pl.lit(3600.0).alias("running_seconds"),
        (pl.col("cpu_request") * (_rand("i", 7, 150) / 100)).alias("cpu_usage"),
        (pl.col("memory_request") * 0.8).alias("memory_usage"),
        pl.lit(0.0).alias("gpu_request"),
        (_rand("i", 8, 1000) * 1e5).cast(pl.Float64).alias("network_bytes"),
        # a third of workloads carry no team label (namespace labels or mappings decide)
        pl.when(_rand("_wl", 9, 3) > 0).then(_map("team", pl.col("_team")))
        .otherwise(_map("app", pl.col("workload_name"))).alias("labels"),
        _map("app", pl.col("workload_name")).alias("workload_labels"),
    )
    return hourly.drop("i", "_node", "_wl", "_team", "h")


def namespaces(clusters: int) -> pl.DataFrame:
    base = pl.DataFrame({"c": range(clusters)}).join(
        pl.DataFrame({"k": range(100)}), how="cross")
    return base.with_columns(
        ("c" + pl.col("c").cast(pl.String)).alias("cluster"),
        ("ns-" + pl.col("k").cast(pl.String)).alias("namespace"),
        pl.lit(datetime(2026, 1, 1)).alias("valid_from"),
        _map("team", pl.lit(TEAMS).list.get(pl.col("k") % len(TEAMS))).alias("labels"),
        _map("owner", pl.lit("x")).alias("annotations"),
    ).drop("c", "k")


def quotas(clusters: int) -> pl.DataFrame:
    ns = namespaces(clusters).filter(pl.col("namespace").str.slice(3).cast(pl.Int64) % 2 == 0)
    res = pl.DataFrame({"resource": ["requests.cpu", "requests.memory"],
                        "hard": [40.0, 160 * GIB]})
    return ns.select("cluster", "namespace").join(res, how="cross").join(
        _hours().drop("h"), how="cross").with_columns(
        pl.lit("compute").alias("quota"), pl.lit(0.0).alias("used"))


def bill(n_nodes: int, clusters: int, lines: int) -> pl.DataFrame:
    """Hourly node lines (CUR grain), EKS fees, then cloud lines up to ``lines``."""
    node_lines = pl.DataFrame({"i": range(n_nodes)}).join(_hours(), how="cross").with_columns(
        ("i-" + pl.col("i").cast(pl.String).str.zfill(17)).alias("resource_id"),
        pl.lit("AmazonEC2").alias("service_name"), pl.lit(0.768 / 2).alias("effective_cost"))
    fees = pl.DataFrame({"i": range(clusters)}).join(_hours(), how="cross").with_columns(
        ("arn:aws:eks:us-east-1:1:cluster/c" + pl.col("i").cast(pl.String)).alias("resource_id"),
        pl.lit("AmazonEKS").alias("service_name"), pl.lit(0.10).alias("effective_cost"))
    rest = max(lines - node_lines.height - fees.height, 0)
    cloud = pl.DataFrame({"i": range(rest)}).with_columns(
        (pl.col("i") % 24).alias("h"),
        ("arn:aws:rds:db-" + (pl.col("i") // 24).cast(pl.String)).alias("resource_id"),
        pl.lit("AmazonRDS").alias("service_name"),
        (_rand("i", 10, 1000) / 1000).alias("effective_cost"),
        pl.when(_rand("i", 11, 2) == 0)
        .then(_map("user:team", pl.lit(TEAMS).list.get(_rand("i", 12, len(TEAMS)))))
        .otherwise(pl.lit([], dtype=pl.List(pl.Struct({"key": pl.String,
                                                       "value": pl.String}))))
        .alias("tags"))
    frame = pl.concat([node_lines, fees, cloud], how="diagonal_relaxed")
    start = pl.lit(T0) + pl.duration(hours=pl.col("h"))
    return frame.with_columns(
        pl.lit("123456789012").alias("billing_account_id"),
        pl.lit("123456789012").alias("sub_account_id"), pl.lit("AWS").alias("provider"),
        start.alias("charge_period_start"), (start + pl.duration(hours=1)).alias(
            "charge_period_end"),
        pl.lit("Usage").alias("charge_category"), pl.col("effective_cost").alias("billed_cost"),
        (pl.col("effective_cost") * 1.2).alias("list_cost"), pl.lit(DAY).alias("day"),
    ).drop("i", "h", "hour", strict=False)


def generate(cache: Path, n_pods: int, n_nodes: int, clusters: int, lines: int) -> Path:
    """Write the day's frames to ``cache/<shape>/`` once; return that folder."""
    folder = cache / f"p{n_pods}-n{n_nodes}-c{clusters}-l{lines}"
    if (folder / "done").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    frames = {"nodes": nodes(n_nodes, clusters), "pods": pods(n_pods, n_nodes, clusters),
              "namespaces": namespaces(clusters), "quotas": quotas(clusters),
              "bill": bill(n_nodes, clusters, lines)}
    for name, frame in AllocationInputs.build(**frames).__dict__.items():
        if name in frames:
            frame.write_parquet(folder / f"{name}.parquet")
    (folder / "done").touch()
    return folder


def load(folder: Path) -> AllocationInputs:
    names = ("nodes", "pods", "namespaces", "quotas", "bill")
    return AllocationInputs.build(**{n: pl.read_parquet(folder / f"{n}.parquet") for n in names})


CONFIG: dict[str, Any] = {"teams": [{"name": t} for t in TEAMS],
                          "allocation": {"shared_namespaces": ["ns-9*"], "idle": "separate"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pods", type=int, default=50_000)
    parser.add_argument("--nodes", type=int, default=2_000)
    parser.add_argument("--clusters", type=int, default=3)
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--basis", default="max")
    parser.add_argument("--idle", default="separate")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/engine_day"))
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    folder = generate(args.cache, args.pods, args.nodes, args.clusters, args.lines)
    inputs = load(folder)
    config = parse_config({**CONFIG, "allocation": {**CONFIG["allocation"], "basis": args.basis,
                                                    "idle": args.idle}})
    rss_inputs = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    profiler = cProfile.Profile() if args.profile else None
    began, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    rows = allocate_day(inputs, config, DAY)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    billed = float(inputs.bill.get_column("effective_cost").sum())
    allocated = float(rows.filter(pl.col("price_source").is_in(["bill", "split-bill"]))
                      .get_column("effective_cost").sum())
    print(json.dumps({
        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_after_inputs_mb": round(rss_inputs), "pod_hours": inputs.pods.height,
        "bill_lines": inputs.bill.height, "rows": rows.height,
        "difference": round(billed - allocated, 2)}))


if __name__ == "__main__":
    main()
