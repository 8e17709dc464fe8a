"""Floors: the time DuckDB alone takes for the same data work, measured in the same run.

A stage's floor ratio is its wall time divided by its floor's: 1.0 would mean finops adds
nothing on top of a raw DuckDB scan (ingest) or a raw join-and-sum (allocation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def _one(sql: str, db: str | None = None) -> tuple[Any, ...]:
    con = duckdb.connect(db or ":memory:", read_only=bool(db))
    try:
        row = con.execute(sql).fetchone()
        return tuple(row) if row else ()
    finally:
        con.close()


def floor_scan_billing(data: str) -> dict[str, Any]:
    """Read every bill file once and sum its cost columns (no mapping, no load)."""
    root = Path(data)
    rows = 0
    parquet = sorted(str(p) for p in (root / "aws").rglob("*.parquet"))
    if parquet:
        scan = f"SELECT count(*), sum(line_item_unblended_cost) FROM read_parquet({parquet})"
        rows += _one(scan)[0]
    for path in sorted((root / "gcp").glob("*.jsonl")):
        rows += _one(f"SELECT count(*), sum(cost) FROM read_json_auto('{path}')")[0]
    return {"rows": rows}


def floor_scan_usage(data: str) -> dict[str, Any]:
    files = sorted(str(p) for p in (Path(data) / "usage").glob("*.parquet"))
    rows = sum(_one(f"SELECT count(*) FROM read_parquet('{f}')")[0] for f in files)
    return {"rows": rows}


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
    groups, _ = _one(JOIN_AND_SUM, db)
    return {"rows": groups}
