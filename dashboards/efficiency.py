"""The efficiency page: per cluster and node pool, capacity vs requested vs used (CPU, memory,
GPU) per day and the idle money; per workload, the right-sizing suggestions ranked by the money
a month they would save. Frames in (``finops.api.efficiency``), HTML and figures out."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from dashboards.figures import COLORS, Figure, axis_title, bar, cost_title, figure, line
from dashboards.pages import downloads, empty_card, figure_div
from dashboards.tables import Column, card, table
from models.currency import MoneyFormat

MAX_POOLS = 8  # pool figures drawn (the table lists every pool)
MAX_WORKLOADS = 100
# (label, capacity column, requested column, used column, unit divisor to a day's average)
RESOURCES = (("CPU cores", "cpu_allocatable_core_hours", "cpu_requested_core_hours",
              "cpu_used_core_hours"),
             ("memory GiB", "memory_allocatable_gib_hours", "memory_requested_gib_hours",
              "memory_used_gib_hours"),
             ("GPUs", "gpu_capacity_hours", "gpu_requested_hours", None))


def pool_figure(rows: pl.DataFrame, cluster: str, pool: str, through: date | None) -> Figure:
    """One pool: allocatable, requested and used per day (the day's average), CPU on top,
    memory below, GPUs (when the pool has any) at the bottom."""
    resources = [r for r in RESOURCES if r[0] != "GPUs" or float(rows[r[1]].sum()) > 0]
    days = rows["day"].to_list()
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {}
    height = 1 / len(resources)
    for i, (label, capacity, requested, used) in enumerate(resources):
        axis = "" if i == 0 else str(i + 1)
        for j, (name, column) in enumerate((("allocatable", capacity),
                                            ("requested", requested), ("used", used))):
            if column is None:
                continue
            trace = line(days, [v / 24 for v in rows[column].to_list()], f"{label}: {name}",
                         color=COLORS[j], dash="dash" if name == "allocatable" else "solid")
            data.append({**trace, "xaxis": "x", "yaxis": f"y{axis}", "legendgroup": label,
                         "hovertemplate": f"%{{y:.2f}} {label} ({name})<extra></extra>"})
        top = 1 - i * height
        layout[f"yaxis{axis}"] = {"domain": [max(top - height + 0.08, 0), top],
                                  **axis_title(label), "rangemode": "tozero"}
    return figure(data, f"{cluster} / {pool}: allocatable vs requested vs used (daily mean)",
                  through, height=200 + 170 * len(resources), **layout)


def idle_figure(frame: pl.DataFrame, through: date | None, fmt: MoneyFormat) -> Figure:
    """Idle money per day, stacked by (cluster, node pool)."""
    data = []
    keyed = frame.with_columns(pl.col("node_pool").fill_null("(no pool label)"))
    for i, ((cluster, pool), rows) in enumerate(sorted(
            keyed.group_by("cluster", "node_pool"), key=lambda g: (str(g[0][0]), str(g[0][1])))):
        rows = rows.sort("day")
        data.append(bar(rows["day"].to_list(), rows["idle_effective_cost"].to_list(),
                        name=f"{cluster} / {pool}", marker={"color": COLORS[i % len(COLORS)]}))
    return figure(data, "Idle money per day by node pool", through, fmt, barmode="stack",
                  yaxis=axis_title(cost_title(fmt)))


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "n/a"


def pool_table(totals: pl.DataFrame, fmt: MoneyFormat, data_url: str) -> str:
    """The pools over the window; ``data_url``: the route of its rows (downloads)."""
    columns = [Column("cluster"), Column("node pool"), Column("nodes", True),
               Column("CPU allocatable (core-h)", True), Column("CPU requested", True),
               Column("CPU used", True), Column("memory allocatable (GiB-h)", True),
               Column("memory requested", True), Column("memory used", True),
               Column("GPU hours", True), Column(f"idle, {fmt.label}", True)]
    rows = [[str(r["cluster"]), str(r["node_pool"]), str(r["nodes"]),
             f"{r['cpu_allocatable_core_hours']:,.0f}",
             _pct(r["cpu_requested_core_hours"], r["cpu_allocatable_core_hours"]),
             _pct(r["cpu_used_core_hours"], r["cpu_allocatable_core_hours"]),
             f"{r['memory_allocatable_gib_hours']:,.0f}",
             _pct(r["memory_requested_gib_hours"], r["memory_allocatable_gib_hours"]),
             _pct(r["memory_used_gib_hours"], r["memory_allocatable_gib_hours"]),
             f"{r['gpu_capacity_hours']:,.0f}", fmt(r["idle_effective_cost"])]
            for r in totals.iter_rows(named=True)]
    return card(table("Node pools in the window (requested and used as a share of "
                      "allocatable)", columns, rows, table_id="node-pools") + downloads(data_url))


def rightsizing_table(frame: pl.DataFrame, fmt: MoneyFormat, data_url: str) -> str:
    """The ranked suggestions; ``data_url``: the route of every row (downloads)."""
    columns = [Column("team"), Column("cluster / namespace"), Column("workload"),
               Column("CPU request → suggested (cores)", True), Column("CPU p95", True),
               Column("memory request → suggested (GiB)", True), Column("memory p95", True),
               Column(f"saves a month, {fmt.label}", True)]
    rows = [[str(r["team"] or "(unowned)"), f"{r['cluster']} / {r['namespace']}",
             f"{r['workload_kind']}/{r['workload_name']}",
             f"{r['cpu_request']:g} → {r['cpu_suggested']:g}", f"{r['cpu_p95']:g}",
             f"{r['memory_request_gib']:g} → {r['memory_suggested_gib']:g}",
             f"{r['memory_p95_gib']:g}", fmt(r["monthly_saving"])]
            for r in frame.head(MAX_WORKLOADS).iter_rows(named=True)]
    shown = f" (largest {MAX_WORKLOADS} of {frame.height})" if frame.height > MAX_WORKLOADS \
        else ""
    return card(table(f"Right-sizing: requests vs p95 usage, ranked by the money a month"
                      f"{shown}", columns, rows, table_id="rightsizing") + downloads(data_url))


def pool_cards(frame: pl.DataFrame, through: date | None, fmt: MoneyFormat,
               data_url: str) -> list[str]:
    """The node-pool cards (organisation views): idle money, a figure per pool, the table;
    each figure's data is ``data_url``'s rows (``/api/efficiency``)."""
    if not frame.height:
        return [empty_card("No node usage in this window.", True)]
    keyed = frame.with_columns(pl.col("node_pool").fill_null("(no pool label)"))
    totals = (keyed.group_by("cluster", "node_pool").agg(pl.col("idle_effective_cost").sum())
              .sort("idle_effective_cost", descending=True).head(MAX_POOLS))
    cards = [figure_div(idle_figure(frame, through, fmt), "idle-by-pool", True,
                        data_url=data_url)]
    for i, (cluster, pool, _) in enumerate(totals.iter_rows()):
        rows = keyed.filter((pl.col("cluster") == cluster) & (pl.col("node_pool") == pool))
        cards.append(figure_div(pool_figure(rows.sort("day"), str(cluster), str(pool), through),
                                f"pool-{i}", data_url=data_url))
    return cards
