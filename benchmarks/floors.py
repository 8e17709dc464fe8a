"""Floors: the time DuckDB alone takes for the same data work, measured in the same run.

A stage's floor ratio is its wall time divided by its floor's: 1.0 would mean finops adds
nothing on top of DuckDB copying the raw files into a database (ingest: every column read
and stored, no mapping, no checks) or a raw join-and-sum (allocation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def one_row(sql: str, db: str | None = None) -> tuple[Any, ...]:
    con = duckdb.connect(db or ":memory:", read_only=bool(db))
    try:
        row = con.execute(sql).fetchone()
        return tuple(row) if row else ()
    finally:
        con.close()


def _copy_in(scratch: str, scans: list[str]) -> int:
    """Load each scan (a DuckDB table function call) into a fresh on-disk database: every
    column read, decoded and stored, nothing mapped. Returns the rows stored."""
    Path(scratch).unlink(missing_ok=True)
    con = duckdb.connect(scratch)
    try:
        con.execute("SET preserve_insertion_order = false")  # lets DuckDB stream the copy
        rows = 0
        for i, scan in enumerate(scans):
            con.execute(f"CREATE TABLE t{i} AS SELECT * FROM {scan}")
            row = con.execute(f"SELECT count(*) FROM t{i}").fetchone()
            rows += int(row[0]) if row else 0
        return rows
    finally:
        con.close()
        Path(scratch).unlink(missing_ok=True)
        Path(scratch + ".wal").unlink(missing_ok=True)


def billing_scans(data: str, sources: list[str]) -> list[str]:
    root = Path(data)
    scans = []
    parquet = sorted(str(p) for p in (root / "aws").rglob("*.parquet"))
    if parquet and "aws" in sources:
        scans.append(f"read_parquet({parquet}, union_by_name = true)")
    for path in sorted((root / "gcp").glob("*")) if "gcp" in sources else []:
        reader = "read_parquet" if path.suffix == ".parquet" else "read_json_auto"
        scans.append(f"{reader}('{path}')")
    if "azure" in sources:
        scans += [f"read_csv_auto('{p}')" for p in sorted((root / "azure").glob("*.csv"))]
    return scans


def floor_scan_billing(data: str, scratch: str, sources: list[str]) -> dict[str, Any]:
    """Copy every bill file (CUR Parquet, GCP export, Azure CSV) into DuckDB as is."""
    return {"rows": _copy_in(scratch, billing_scans(data, sources))}


def floor_scan_usage(data: str, scratch: str) -> dict[str, Any]:
    """Copy every usage Parquet file into DuckDB as is (all days of a table at once)."""
    root = Path(data) / "usage"
    names = sorted({p.name for p in root.rglob("*.parquet")})
    globs = [str(root / n) if (root / n).exists() else str(root / "day=*" / n) for n in names]
    return {"rows": _copy_in(scratch, [f"read_parquet('{g}')" for g in globs])}


JOIN_AND_SUM = """
WITH pod_cost AS (
    SELECT p.cluster, p.namespace, p.hour::DATE AS day,
           sum(greatest(p.cpu_request, p.cpu_usage) / n.capacity_cpu
               * p.running_seconds / 3600) AS cpu_share,
           sum(greatest(p.memory_request, p.memory_usage) / n.capacity_memory
               * p.running_seconds / 3600) AS ram_share
    FROM k8s_pod_hour p JOIN k8s_node_hour n USING (cluster, node, hour)
    GROUP BY ALL
), bill AS (
    SELECT day, billing_account_id, resource_id, sum(effective_cost) AS cost
    FROM cost_line_daily GROUP BY ALL
)
SELECT (SELECT count(*) FROM pod_cost), (SELECT sum(cost) FROM bill)
"""


def floor_join_allocate(db: str) -> dict[str, Any]:
    """Join pods to nodes per hour and sum their shares; group the bill by day and resource."""
    groups, _ = one_row(JOIN_AND_SUM, db)
    return {"rows": groups}
