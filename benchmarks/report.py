"""Print results as tables: one run's stages, and the growth across sizes."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def stages_table(result: dict[str, Any]) -> Table:
    budget = result.get("memory_budget_mb", 4096)
    table = Table("stage", "wall s", "cpu s", "peak RSS MB", "rows", "rows/s", "floor ratio",
                  title=f"size {result['size']} ({result['describes']}), "
                        f"{result['date']} @ {result['commit']}")
    for name, stage in result["stages"].items():
        if stage.get("failed"):
            table.add_row(name, f"{stage['wall_s']:.2f}", "", "", "FAILED", "", "")
            continue
        rss = f"{stage['peak_rss_mb']:.0f}" + (" OVER" if stage["peak_rss_mb"] > budget else "")
        table.add_row(name, f"{stage['wall_s']:.2f}", f"{stage['cpu_s']:.2f}", rss,
                      _num(stage.get("rows")), _num(stage.get("rows_per_s")),
                      f"{stage.get('floor_ratio', '')}")
    total = result["total"]
    table.add_row("pipeline total", f"{total['wall_s']:.2f}", f"{total['cpu_s']:.2f}",
                  f"{total['peak_rss_mb']:.0f}", "", "", "")
    return table


def _num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int | float) else ""


STAGES = ("generate", "ingest_billing", "ingest_usage", "allocate", "publish", "api", "budgets")


def growth_table(results: list[dict[str, Any]]) -> Table:
    """Sizes side by side: whole pipeline, then each stage, per pod-hour."""
    table = Table("size", "pod-hours", "bill lines", "pipeline wall s", "peak RSS MB",
                  "µs per pod-hour", "bytes RSS per pod-hour", title="growth (pipeline = "
                  "ingest billing + ingest usage + allocate + publish + api + budgets)")
    for result in results:
        pod_hours = max(result["pod_hours"], 1)
        bill = result.get("bill_lines") or result["stages"].get("ingest_billing", {}).get("rows")
        total = result["total"]
        table.add_row(result["size"], f"{pod_hours:,}", _num(bill),
                      f"{total['wall_s']:.1f}", f"{total['peak_rss_mb']:.0f}",
                      f"{total['wall_s'] * 1e6 / pod_hours:.2f}",
                      f"{total['peak_rss_mb'] * 2**20 / pod_hours:.0f}")
    return table


def stage_growth_table(results: list[dict[str, Any]]) -> Table:
    """Per stage: wall s / peak RSS MB / µs per pod-hour, one column per size."""
    table = Table("stage", *(f"{r['size']} wall s | RSS MB | µs/pod-h" for r in results),
                  title="per stage")
    for name in STAGES:
        cells = []
        for result in results:
            stage = result["stages"].get(name)
            if not stage:
                cells.append("—")
            elif stage.get("failed"):
                cells.append("FAILED")
            else:
                per = stage["wall_s"] * 1e6 / max(result["pod_hours"], 1)
                cells.append(f"{stage['wall_s']:.1f} | {stage['peak_rss_mb']:.0f} | {per:.2f}")
        table.add_row(name, *cells)
    return table


def serve_table(result: dict[str, Any]) -> Table:
    """One row per route of the serving load stage."""
    load = result["machine"]
    table = Table("route", "cold ms", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s",
                  "server CPU ms/req", "errors",
                  title=f"serve {result['size']}: {result['clients']} clients x "
                        f"{result['requests_per_route']} requests per route, "
                        f"{result['date']} @ {result['commit']}, load "
                        f"{load['load_avg_before'][0]} -> {load['load_avg_after'][0]}")
    for route in result["routes"]:
        table.add_row(route["route"], _num(route["cold_ms"]), _num(route["p50_ms"]),
                      _num(route["p95_ms"]), _num(route["p99_ms"]), _num(route["max_ms"]),
                      _num(route["req_per_s"]), _num(route["server_cpu_ms"]),
                      str(route["errors"]))
    return table
