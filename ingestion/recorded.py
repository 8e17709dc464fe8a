"""Recorded Kubernetes usage: a directory of ``<table>.parquet`` files (the demo's usage data).

Files: ``k8s_node_hour``, ``k8s_pod_hour``, ``k8s_namespace``, ``k8s_quota_hour``,
``k8s_volume_hour``, ``k8s_lb_hour`` (any subset; other files are an error). Each is checked
against ``models/schemas.py`` and replaces, per cluster, the hour window the files cover
([first hour, last hour], the same window for every hourly table so a pod that disappeared
does not linger); ``k8s_namespace`` replaces the whole history of its clusters. All tables
load in one transaction: a bad file leaves the warehouse as it was.

``hourly_replaces`` is also how the Prometheus collector replaces its window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from finops.errors import InputError, SchemaMismatch
from finops.warehouse import IngestRun, Replace, Rows, Warehouse, file_checksum, new_run_id
from models.schemas import (
    K8S_LB_HOUR,
    K8S_NAMESPACE,
    K8S_NODE_HOUR,
    K8S_POD_HOUR,
    K8S_QUOTA_HOUR,
    K8S_VOLUME_HOUR,
    MAP,
    Table,
    conform,
)

HOURLY = (K8S_NODE_HOUR, K8S_POD_HOUR, K8S_QUOTA_HOUR, K8S_VOLUME_HOUR, K8S_LB_HOUR)
TABLES = {t.name: t for t in (*HOURLY, K8S_NAMESPACE)}
Window = tuple[datetime, datetime]  # [start, end)


def read_file(path: Path, table: Table) -> pl.DataFrame:
    """One recorded table, conformed to its schema; errors name the file and column/row."""
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 — polars raises several kinds for a bad file
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    missing = [c for c in table.grain if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing} (required by {table.name})")
    try:
        frame = conform(frame, table)
    except SchemaMismatch as exc:
        raise InputError(f"{path}: {exc}") from None
    for column in table.grain:
        nulls = frame[column].is_null()
        if nulls.any():
            row = int(nulls.arg_max() or 0)
            raise InputError(f"{path}: row {row}: column {column} is empty")
    return frame


def read_dir(directory: Path) -> dict[str, pl.DataFrame]:
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory of <table>.parquet files")
    files = sorted(directory.glob("*.parquet"))
    unknown = [f.name for f in files if f.stem not in TABLES]
    if unknown:
        raise InputError(f"{directory}: unknown file(s) {unknown}; expected {sorted(TABLES)}")
    if not files:
        raise InputError(f"{directory}: no <table>.parquet files (expected {sorted(TABLES)})")
    return {f.stem: read_file(f, TABLES[f.stem]) for f in files}


def windows(frames: list[pl.DataFrame]) -> dict[str, Window]:
    """Per cluster, [first hour, last hour + 1h) over all hourly frames."""
    parts = [f.select("cluster", "hour") for f in frames if f.height]
    if not parts:
        return {}
    spans = (
        pl.concat(parts)
        .group_by("cluster")
        .agg(pl.col("hour").min().alias("s"), pl.col("hour").max().alias("e"))
    )
    return {
        r["cluster"]: (r["s"], r["e"] + timedelta(hours=1)) for r in spans.iter_rows(named=True)
    }


def window_where(spans: dict[str, Window]) -> tuple[str, dict[str, object]]:
    """A WHERE clause (and its parameters) matching the hours of every cluster's window."""
    if not spans:
        return "false", {}
    clauses, params = [], {}
    for i, (cluster, (start, end)) in enumerate(sorted(spans.items())):
        clauses.append(f"(cluster = $c{i} AND hour >= $s{i} AND hour < $e{i})")
        params.update({f"c{i}": cluster, f"s{i}": start, f"e{i}": end})
    return " OR ".join(clauses), params


def parquet_select(table: Table, pattern: str) -> str:
    """A SELECT over Parquet files (written from conformed frames) naming the table's columns.

    Label maps are stored as lists of key/value structs; DuckDB needs them as MAPs.
    """
    cols = [
        f'map_from_entries("{c}") AS "{c}"' if dtype == MAP else f'"{c}"'
        for c, dtype in table.schema.items()
    ]
    return f"SELECT {', '.join(cols)} FROM read_parquet('{pattern}')"


def hourly_replaces(rows: dict[str, Rows], spans: dict[str, Window]) -> list[Replace]:
    where, params = window_where(spans)
    return [Replace(TABLES[name], data, where, params) for name, data in rows.items()]


def load_usage(wh: Warehouse, directory: Path, *, source: str = "recorded") -> IngestRun:
    """Validate every file first, then replace the windows they cover in one transaction."""
    frames = read_dir(directory)
    hourly = {name: f for name, f in frames.items() if name != K8S_NAMESPACE.name}
    spans = windows(list(hourly.values()))
    hourly = {
        n: f.with_columns(x_source=pl.col("x_source").fill_null(source)) for n, f in hourly.items()
    }
    replaces = hourly_replaces(dict(hourly), spans)
    if K8S_NAMESPACE.name in frames:
        ns = frames[K8S_NAMESPACE.name]
        clusters = sorted(set(ns["cluster"].to_list()))
        replaces.append(
            Replace(
                K8S_NAMESPACE,
                ns.with_columns(x_source=pl.col("x_source").fill_null(source)),
                "list_contains($clusters, cluster)",
                {"clusters": clusters},
            )
        )
    starts = [s for s, _ in spans.values()]
    ends = [e for _, e in spans.values()]
    paths = sorted(directory.glob("*.parquet"))
    run = IngestRun(
        new_run_id(source),
        source,
        min(starts, default=None),
        max(ends, default=None),
        [str(p) for p in paths],
        checksum=file_checksum(paths),
    )
    return wh.load(run, replaces)
