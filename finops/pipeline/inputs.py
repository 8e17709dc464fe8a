"""The engine's inputs, read from the warehouse: a day at a time, only what the engine uses.

The run-wide inputs (namespace label history, the price catalog, the Backstage owners) are
read once; each day adds its hourly usage (only the columns the engine reads), its pod-hours
keyed by DuckDB (``POD_FACTS_SQL``, ``POD_ATTRS_SQL``) and its bill, compacted when it was
loaded (``finops.bill_compact``: the table ``cost_line_compact``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl

from finops.allocation.inputs import HOURLY, AllocationInputs, conform_bill
from finops.allocation.pod_hours import FACTS, IDENTITY, MAPS, PodHours
from finops.bill_compact import DAY_SQL as COMPACT_DAY_SQL
from ingestion.ownership.backstage import read_catalog
from models.config import FinOpsConfig
from models.loads import FrameReader
from models.schemas import K8S_NAMESPACE, K8S_POD_HOUR, PRICE_CATALOG, Table, conform

# Column pruning: what the engine reads of each hourly table (by ``AllocationInputs`` field).
COLUMNS: dict[str, tuple[str, ...]] = {
    "nodes": ("cluster", "node", "hour", "provider_id", "instance_type", "region", "spot",
              "capacity_cpu", "capacity_memory", "capacity_gpu", "labels", "running_seconds"),
    "quotas": ("cluster", "namespace", "resource", "hour", "hard"),
    "volumes": ("cluster", "namespace", "hour", "volume_name", "volume_id", "size_bytes",
                "mounting_pods", "running_seconds"),
    "lbs": ("cluster", "namespace", "service", "hour", "resource_id", "ingress", "labels",
            "running_seconds"),
}


# The day's pod-hours keyed by DuckDB (``pod_hours.PodHours``): the key hashes the strings and
# label maps where they are stored; the numbers cross to Polars once per pod-hour
# (``POD_FACTS_SQL``, with each row's ``rowid``), the strings and maps once per key: the row
# of each key's first appearance, fetched by its ``rowid`` (``POD_ATTRS_SQL``; the rowids go
# to DuckDB as a frame: as a list parameter, ~44k values a day at L, their conversion took ~30
# ms of an ~80 ms query). The writer lock keeps the table unchanged between the two reads;
# ``POD_ATTRS_GROUPED_SQL`` (one grouped scan, ~2x the CPU) is what a changed table would fall
# back to.
_HOURS = "hour >= $start AND hour < $end"  # a window of the hourly tables
_POD_KEY = f"hash({', '.join(IDENTITY + MAPS)}) AS _pk"
POD_FACTS_SQL = (f"SELECT rowid AS _row, {_POD_KEY}, hour, {', '.join(FACTS)} "
                 f"FROM k8s_pod_hour WHERE {_HOURS}")
POD_ATTRS_SQL = (f"SELECT rowid AS _row, hour, {', '.join(IDENTITY + MAPS)} FROM k8s_pod_hour "
                 "SEMI JOIN _pod_first_rows AS first "
                 f"ON k8s_pod_hour.rowid = first._row WHERE {_HOURS}")
POD_ATTRS_GROUPED_SQL = (f"SELECT _pk, unnest(arg_min(struct_pack(hour, "
                         f"{', '.join(IDENTITY + MAPS)}), hour)) "
                         f"FROM (SELECT {_POD_KEY}, * FROM k8s_pod_hour WHERE {_HOURS}) "
                         "GROUP BY _pk")
_POD_SCHEMA = pl.Schema({"_pk": pl.UInt64(), **dict(K8S_POD_HOUR.schema.items())})


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
                           f"WHERE {_HOURS} AND cluster IS NOT NULL"
                           for t in tables)
    window = {"start": datetime.combine(start, time()),
              "end": datetime.combine(end, time()) + timedelta(days=1)}
    found: dict[date, list[str]] = {}
    for row in reader.frame(f"{union} ORDER BY day, cluster", window).iter_rows():
        found.setdefault(row[1], []).append(row[0])
    return found


def read_day(reader: FrameReader, day: date, shared: AllocationInputs, *,
             node_labels: bool = True, side: FrameReader | None = None) -> AllocationInputs:
    """``shared`` with one day's usage and bill (columns the engine does not read stay null).
    Node labels are read only when asked (``node_labels``): the engine reads them only for
    ``allocation.prices.by_node_label``, and they are most of what the node read costs.
    ``side``: a second reader of the same warehouse; the pod-hours (over half of the read)
    are then read on it, on a thread, beside the rest."""
    start = datetime.combine(day, time())
    params = {"start": start, "end": start + timedelta(days=1)}
    if side is None:
        return replace(_day_rest(reader, day, params, node_labels, shared),
                       pod_hours=read_pod_hours(reader, params))
    with ThreadPoolExecutor(1, thread_name_prefix="finops-read-pods") as pool:
        pods = pool.submit(read_pod_hours, side, params)
        rest = _day_rest(reader, day, params, node_labels, shared)
        return replace(rest, pod_hours=pods.result())


def _day_rest(reader: FrameReader, day: date, params: dict[str, Any], node_labels: bool,
              shared: AllocationInputs) -> AllocationInputs:
    """``read_day`` but the pod-hours: the other hourly tables and the day's bill."""
    columns = {**COLUMNS, "nodes": tuple(c for c in COLUMNS["nodes"]
                                         if node_labels or c != "labels")}
    usage: dict[str, Any] = {name: _read(reader, table, _HOURS, params, ", ".join(columns[name]))
                             for name, table in HOURLY.items() if name in columns}
    # The day's bill as ``inputs.compact_bill`` makes it, ~6x fewer lines than the bill to
    # hand over and route (``bill_is_compact``: the engine does not group them again).
    bill = reader.frame(COMPACT_DAY_SQL, {"day": day})
    return replace(shared, bill=conform_bill(bill), bill_is_compact=True, **usage)


def read_pod_hours(reader: FrameReader, params: dict[str, Any]) -> PodHours:
    """The window's pod-hours keyed by DuckDB (``start`` <= hour < ``end``)."""
    facts = reader.frame(POD_FACTS_SQL, params)
    first = facts.filter(pl.col("_pk").is_first_distinct()).select("_row", "_pk", "hour")
    attrs = reader.frame(POD_ATTRS_SQL, params, tables={"_pod_first_rows": first.select("_row")})
    # Each fetched row's key, found by its rowid: only the small columns are joined (a join
    # would gather the label maps, which costs more than the read).
    keys = attrs.select("_row", "hour").join(first, on=["_row", "hour"], how="left",
                                             maintain_order="left").get_column("_pk")
    if attrs.height != first.height or keys.null_count():  # the table changed in between
        attrs = reader.frame(POD_ATTRS_GROUPED_SQL, params)
    else:
        attrs = attrs.drop("_row").with_columns(keys)
    return PodHours(as_pod_columns(facts.drop("_row")), as_pod_columns(attrs))


def as_pod_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame read from ``k8s_pod_hour`` (plus ``_pk``) in the engine's types."""
    return frame.select(pl.col(c).cast(_POD_SCHEMA[c]) for c in frame.columns)
