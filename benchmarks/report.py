"""Print results as tables: one run's stages, and the growth across sizes."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def stages_table(result: dict[str, Any]) -> Table:
    table = Table("stage", "wall s", "cpu s", "peak RSS MB", "rows", "rows/s", "floor ratio",
                  title=f"size {result['size']} ({result['describes']}), "
                        f"{result['date']} @ {result['commit']}")
    for name, stage in result["stages"].items():
        table.add_row(name, f"{stage['wall_s']:.2f}", f"{stage['cpu_s']:.2f}",
                      f"{stage['peak_rss_mb']:.0f}", f"{stage.get('rows', '')}",
                      f"{stage.get('rows_per_s', '')}", f"{stage.get('floor_ratio', '')}")
    total = result["total"]
    table.add_row("pipeline total", f"{total['wall_s']:.2f}", f"{total['cpu_s']:.2f}",
                  f"{total['peak_rss_mb']:.0f}", "", "", "")
    return table


def growth_table(results: list[dict[str, Any]]) -> Table:
    table = Table("size", "pod-hours", "bill lines", "wall s", "peak RSS MB",
                  "µs per pod-hour", "bytes RSS per pod-hour", title="growth")
    for result in results:
        pod_hours = max(result["pod_hours"], 1)
        bill = result["stages"].get("ingest_billing", {}).get("rows", "")
        total = result["total"]
        table.add_row(result["size"], f"{pod_hours:,}", f"{bill:,}" if bill else "",
                      f"{total['wall_s']:.1f}", f"{total['peak_rss_mb']:.0f}",
                      f"{total['wall_s'] * 1e6 / pod_hours:.2f}",
                      f"{total['peak_rss_mb'] * 2**20 / pod_hours:.0f}")
    return table
