"""The engine's inputs, read from the warehouse: a day at a time, only what the engine uses.

The run-wide inputs (namespace label history, the price catalog, the Backstage owners) are
read once; each day adds its hourly usage (only the columns the engine reads) and its bill,
which DuckDB compacts while reading (``COMPACT_BILL_SQL``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl

from finops.allocation.inputs import BILL_KEYS, HOURLY, MONEY, AllocationInputs, conform_bill
from ingestion.ownership.backstage import read_catalog
from models.config import FinOpsConfig
from models.loads import FrameReader
from models.schemas import K8S_NAMESPACE, PRICE_CATALOG, Table, conform

# Column pruning: what the engine reads of each hourly table (by ``AllocationInputs`` field).
COLUMNS: dict[str, tuple[str, ...]] = {
    "nodes": ("cluster", "node", "hour", "provider_id", "instance_type", "region", "spot",
              "capacity_cpu", "capacity_memory", "capacity_gpu", "labels", "running_seconds"),
    "pods": ("cluster", "namespace", "pod", "hour", "node", "workload_kind", "workload_name",
             "running_seconds", "cpu_request", "cpu_usage", "memory_request", "memory_usage",
             "gpu_request", "network_bytes", "labels", "workload_labels"),
    "quotas": ("cluster", "namespace", "resource", "hour", "hard"),
    "volumes": ("cluster", "namespace", "hour", "volume_name", "volume_id", "size_bytes",
                "mounting_pods", "running_seconds"),
    "lbs": ("cluster", "namespace", "service", "hour", "resource_id", "ingress", "labels",
            "running_seconds"),
}


def _compact_bill_sql() -> str:
    """The day's bill as ``inputs.compact_bill`` makes it, computed by DuckDB while it reads:
    one line per distinct engine-relevant attributes, money summed, only lines the bill split
    per pod keeping their hour. An hourly bill is ~6x fewer lines to hand over and route
    (``bill_is_compact`` tells the engine not to group them again)."""
    keys = [k for k in BILL_KEYS if k != "charge_period_start"]
    hour = ("CASE WHEN x_namespace IS NOT NULL OR x_pod IS NOT NULL "
            "THEN date_trunc('hour', charge_period_start) END AS charge_period_start")
    money = ", ".join(f"sum({m}) AS {m}" for m in MONEY)
    # The view cuts multi-day lines into days; the period test lets DuckDB skip the rest of
    # cost_line before it does (same rows as ``day = $day`` alone).
    return (f"SELECT {', '.join(keys)}, {hour}, {money} FROM cost_line_daily WHERE day = $day "
            "AND charge_period_start < $end AND charge_period_end > $start GROUP BY ALL")


COMPACT_BILL_SQL = _compact_bill_sql()


def _read(reader: FrameReader, table: Table, where: str, params: dict[str, Any],
          select: str = "*") -> pl.DataFrame:
    return conform(reader.frame(f"SELECT {select} FROM {table.name} WHERE {where}", params),
                   table)


def run_inputs(reader: FrameReader, config: FinOpsConfig) -> AllocationInputs:
    """What every day of a run shares: namespace history, price catalog, Backstage owners."""
    return AllocationInputs(namespaces=_read(reader, K8S_NAMESPACE, "true", {}),
                            catalog=_read(reader, PRICE_CATALOG, "true", {}),
                            backstage=read_catalog(config.ownership.backstage_catalog))


def day_clusters(reader: FrameReader, start: date, end: date) -> dict[date, list[str]]:
    """The clusters of each day of ``start``..``end`` as the engine finds them (any node,
    pod, volume or load balancer that day): the (cluster, day) partition keys of a run."""
    tables = [HOURLY[name].name for name in ("nodes", "pods", "volumes", "lbs")]
    union = " UNION ".join(f"SELECT DISTINCT cluster, CAST(hour AS DATE) AS day FROM {t} "
                           "WHERE hour >= $start AND hour < $end AND cluster IS NOT NULL"
                           for t in tables)
    window = {"start": datetime.combine(start, time()),
              "end": datetime.combine(end, time()) + timedelta(days=1)}
    found: dict[date, list[str]] = {}
    for row in reader.frame(f"{union} ORDER BY day, cluster", window).iter_rows():
        found.setdefault(row[1], []).append(row[0])
    return found


def read_day(reader: FrameReader, day: date, shared: AllocationInputs) -> AllocationInputs:
    """``shared`` with one day's usage and bill (columns the engine does not read stay null)."""
    start = datetime.combine(day, time())
    params = {"start": start, "end": start + timedelta(days=1)}
    usage = {name: _read(reader, table, "hour >= $start AND hour < $end", params,
                         ", ".join(COLUMNS[name])) for name, table in HOURLY.items()}
    bill = reader.frame(COMPACT_BILL_SQL, {**params, "day": day})
    return replace(shared, bill=conform_bill(bill), bill_is_compact=True, **usage)
