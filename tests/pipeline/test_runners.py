"""The process-pool runner: the demo's month allocated in (cluster, day) partitions on worker
processes equals the local run; a worker killed mid-run costs its partitions one attempt; a
partition that keeps failing fails the run after its attempts and writes nothing; the staged
inputs are gone after the run."""

from __future__ import annotations

import threading
from datetime import date
from functools import partial
from pathlib import Path

import polars as pl
import pytest

from finops.pipeline import allocate
from finops.pipeline.remote import PartitionEvent, ProcessRunner
from finops.pipeline.runner import OUTSIDE, PartitionKey
from finops.pipeline.staging import Staging
from finops.warehouse import Warehouse
from models.errors import RunnerError
from tests.support.faults import fail_always, kill_when_stalled, stall_first
from tests.support.runners import (
    allocate_with,
    allocation_of,
    assert_same_allocation,
    demo_copy,
)

pytestmark = pytest.mark.integration
WEEK = (date(2026, 10, 1), date(2026, 10, 5))


@pytest.fixture(scope="module")
def local_month(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """The demo's month allocated by the local runner (whole days, threads)."""
    return allocate_with(demo_copy(demo_db, tmp_path_factory.mktemp("local")), None)[1]


@pytest.mark.slow
def test_processes_allocate_the_demo_month_as_the_local_runner_does(
        demo_db: Path, tmp_path: Path, local_month: pl.DataFrame) -> None:
    runner = ProcessRunner(Staging(str(tmp_path / "staging")), workers=2,
                           shared=["inputs.catalog", "inputs.backstage"])
    summary, rows = allocate_with(demo_copy(demo_db, tmp_path), runner)
    assert_same_allocation(rows, local_month)
    done = [e for e in runner.events if e.status == "done"]
    # 31 days x (2 clusters + the spend outside clusters), each once, each shipped as files
    assert len(done) == len(runner.events) == 93 == summary.partitions
    assert {e.key.cluster for e in done} == {OUTSIDE, "prod-eks", "prod-gke"}
    assert min(e.shipped_bytes for e in done) > 0
    assert list((tmp_path / "staging").iterdir()) == []  # the run's inputs are removed


def test_a_killed_worker_costs_its_partition_one_attempt(
        demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = allocate_with(demo_copy(demo_db, tmp_path / "local"), None, WEEK)[1]
    marker = tmp_path / "stalled.pid"
    monkeypatch.setattr(allocate, "allocate_partition",
                        partial(stall_first, "prod-gke", str(marker)))
    runner = ProcessRunner(Staging(str(tmp_path / "staging")), workers=2, attempts=2)
    killed: list[int] = []
    killer = threading.Thread(target=lambda: killed.append(kill_when_stalled(marker)))
    killer.start()
    _, rows = allocate_with(demo_copy(demo_db, tmp_path / "pool"), runner, WEEK)
    killer.join()
    assert killed and killed[0] > 0
    assert_same_allocation(rows, local)
    retried = [e for e in runner.events if e.status == "retry"]
    assert retried and all(e.attempt == 1 for e in retried)
    assert "BrokenProcessPool" in retried[0].error
    assert {e.key for e in retried} <= {e.key for e in runner.events
                                        if e.status == "done" and e.attempt == 2}


def test_a_partition_that_keeps_failing_fails_the_run_and_writes_nothing(
        demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = demo_copy(demo_db, tmp_path)
    with Warehouse(db) as wh:
        before = allocation_of(wh)
    monkeypatch.setattr(allocate, "allocate_partition", partial(fail_always, "prod-eks"))
    runner = ProcessRunner(Staging(str(tmp_path / "staging")), workers=2, attempts=3)
    with pytest.raises(RunnerError, match=r"prod-eks on 2026-10-0[1-5] failed 3 time\(s\).*"
                                          r"staged inputs are gone.*nothing was written"):
        allocate_with(db, runner, WEEK)
    with Warehouse(db) as wh:
        assert allocation_of(wh).equals(before)
    # Several prod-eks partitions may fail at once on the two workers: their events interleave,
    # so each key's attempts are read on their own.
    by_key: dict[PartitionKey, list[PartitionEvent]] = {}
    for event in runner.events:
        if event.key.cluster == "prod-eks" and event.status != "done":
            by_key.setdefault(event.key, []).append(event)
    gave_up = [events for events in by_key.values() if events[-1].status == "failed"]
    assert gave_up, "no partition gave up"
    assert [e.attempt for e in gave_up[0]] == [1, 2, 3]
    assert list((tmp_path / "staging").iterdir()) == []
