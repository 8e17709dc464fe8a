"""The runners benchmark's own parts: per-partition means over finished partitions only, the
kept tables compared with the first runner's, and the process-tree sampler."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from benchmarks.runners import TreeSampler, compare_kept, partition_figures
from finops.pipeline.remote import PartitionEvent
from finops.pipeline.runner import PartitionKey


def event(status: str, shipped: int, work: float) -> PartitionEvent:
    return PartitionEvent(key=PartitionKey(day=date(2026, 10, 1), cluster="prod"),
                          status=status, attempt=1, shipped_bytes=shipped, ship_s=0.1,
                          wall_s=1.0, work_s=work)


def test_means_cover_finished_partitions_and_retries_are_counted() -> None:
    figures = partition_figures([event("done", 100, 1.0), event("retry", 999, 9.0),
                                 event("done", 300, 3.0)])
    assert figures["shipped_bytes_mean"] == 200 and figures["shipped_bytes_max"] == 300
    assert figures["work_s_mean"] == 2.0 and figures["retries"] == 1
    assert partition_figures([]) == {}


def test_kept_tables_equal_to_the_cent_pass_and_a_moved_cent_fails(tmp_path: Path) -> None:
    base = pl.DataFrame({"team": ["payments", "search"], "effective_cost": [1.0, 2.0]})
    base.write_parquet(tmp_path / "local.parquet")
    base.reverse().write_parquet(tmp_path / "ray.parquet")
    assert compare_kept(tmp_path, ["local", "ray"], 1e-9)
    base.with_columns(pl.col("effective_cost") + 0.01).write_parquet(tmp_path / "processes.parquet")
    assert not compare_kept(tmp_path, ["local", "ray", "processes"], 1e-9)


@pytest.mark.integration  # starts a child process
def test_the_sampler_counts_a_child_process_cpu_and_memory() -> None:
    spin = "import time\nx = bytearray(200 * 2**20)\nt = time.process_time()\n" \
           "while time.process_time() - t < 1.0: pass"
    with TreeSampler(every=0.1) as sampler:
        subprocess.run([sys.executable, "-c", spin], check=True)
    figures = sampler.figures()
    assert figures["cpu_s"] >= 0.5  # most of the child's second of CPU, sampled before it ended
    assert figures["peak_rss_mb"] >= 200 and figures["peak_process_rss_mb"] >= 200
    assert 0 < figures["peak_pss_mb"] <= figures["peak_rss_mb"]
