"""The Ray runner on a real Ray head (127.0.0.1, two worker processes, not ``local_mode``),
with the partitions' inputs on S3 (moto's server): the demo's month equals the local run
although a worker is killed mid-run (its partition costs one attempt); the staged inputs are
removed from the bucket. One test, so one head and one month over S3 (Ray takes ~5 s to
start on a quiet machine, far more on a busy one)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from finops.pipeline import allocate, ray_runner
from finops.pipeline.ray_runner import RayRunner
from finops.pipeline.runner import OUTSIDE
from finops.pipeline.staging import Staging
from finops.warehouse import Warehouse
from tests.support.faults import kill_when_stalled, stall_first
from tests.support.ray_head import RayHead
from tests.support.runners import (
    MONTH,
    allocate_with,
    allocation_of,
    assert_same_allocation,
    demo_copy,
)
from tests.support.s3 import FAKE_AWS_ENV, moto_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def s3() -> Iterator[tuple[str, Any]]:
    """moto's server, a bucket in it, and a client to look inside."""
    import boto3

    with moto_server() as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket="finops-staging")
        yield endpoint, client


@pytest.fixture(scope="module")
def ray_head(s3: tuple[str, Any]) -> Iterator[RayHead]:
    with RayHead(FAKE_AWS_ENV, cpus=2) as head:
        yield head


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, ray_head: RayHead) -> None:
    """The driver writes the staged inputs to moto with the same fake credentials, and
    holds the head's token."""
    for key, value in {**FAKE_AWS_ENV, **ray_head.driver_env}.items():
        monkeypatch.setenv(key, value)


def _runner(head: RayHead, endpoint: str, prefix: str) -> RayRunner:
    staging = Staging(f"s3://finops-staging/{prefix}", endpoint_url=endpoint, region="us-east-1")
    return RayRunner(staging, address=head.address, attempts=2,
                     shared=["inputs.catalog", "inputs.backstage"])


def _count_held_refs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many ObjectRefs the Ray backend holds after each submit."""
    held: list[int] = []
    submit = ray_runner._RayBackend.submit

    def counted(self: Any, *args: Any) -> Any:
        future = submit(self, *args)
        held.append(len(self.refs))
        return future

    monkeypatch.setattr(ray_runner._RayBackend, "submit", counted)
    return held


def _keys_left(client: Any, prefix: str) -> list[str]:
    """Objects left under ``prefix``, but the empty ``prefix/`` marker Arrow's S3
    filesystem puts back for the parent of a folder it deletes."""
    found = client.list_objects_v2(Bucket="finops-staging", Prefix=prefix)
    return [o["Key"] for o in found.get("Contents", []) if o["Key"] != prefix]


def test_ray_allocates_the_demo_month_as_the_local_runner_does_despite_a_killed_worker(
        demo_db: Path, tmp_path: Path, ray_head: RayHead, s3: tuple[str, Any], aws_env: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One month, one Ray run: prod-gke's first partition stalls in its worker, which is
    SIGKILLed; the partition's second attempt succeeds and the month equals the local run
    (the demo's own ``allocate``, whole days on threads, already in the warehouse)."""
    endpoint, client = s3
    db = demo_copy(demo_db, tmp_path / "ray")
    with Warehouse(db) as wh:
        local = allocation_of(wh)
    marker = tmp_path / "stalled.pid"
    monkeypatch.setattr(allocate, "allocate_partition",
                        partial(stall_first, "prod-gke", str(marker)))
    held = _count_held_refs(monkeypatch)
    runner = _runner(ray_head, endpoint, "month")
    killed: list[int] = []
    killer = threading.Thread(target=lambda: killed.append(kill_when_stalled(marker)))
    killer.start()
    summary, rows = allocate_with(db, runner)
    killer.join()
    assert killed and killed[0] > 0
    assert_same_allocation(rows, local)

    [retried] = [e for e in runner.events if e.status == "retry"]
    assert (retried.key.cluster, retried.key.day, retried.attempt) == ("prod-gke", MONTH[0], 1)
    assert "WorkerCrashedError" in retried.error or "died" in retried.error, retried.error
    done = [e for e in runner.events if e.status == "done"]
    assert len(done) == 93 == summary.partitions == len(runner.events) - 1
    assert [e.attempt for e in done if e.key == retried.key] == [2]
    assert {e.key.cluster for e in done} == {OUTSIDE, "prod-eks", "prod-gke"}
    assert min(e.shipped_bytes for e in done) > 0 and min(e.work_s for e in done) > 0
    assert _keys_left(client, "month/") == []
    # the driver lets go of each result once it has it: the object store holds a few
    # partitions' rows at a time, not the month's (2 slots: 4 ahead, the retry, the new one)
    assert 0 < max(held) <= 2 * 2 + 2, held
