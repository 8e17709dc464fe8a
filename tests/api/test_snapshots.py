"""Snapshot generations: a request keeps the snapshot it started on; replaced ones close."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.api.snapshots import ReaderLimits, Signature, SnapshotManager
from finops.settings import Settings
from models.errors import SnapshotUnavailable
from tests.support.api_warehouse import DAYS, auth, build, expected, republish

SEARCH_TOTAL = "SELECT sum(effective_cost) FROM allocation WHERE team = 'search'"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return build(tmp_path)


@pytest.fixture
def manager(settings: Settings) -> Iterator[SnapshotManager]:
    snapshots = SnapshotManager(settings.snapshot_path, ReaderLimits("256MB", 1),
                                check_interval_s=0)
    yield snapshots
    snapshots.close()


def search_total(generation) -> float:  # type: ignore[no-untyped-def]
    cursor = generation.cursor()
    try:
        return round(float(cursor.execute(SEARCH_TOTAL).fetchone()[0]), 2)
    finally:
        cursor.close()


def open_snapshot_files(path: Path) -> list[str]:
    """This process's open files that are (or were, before a replace) the snapshot."""
    fds = Path("/proc/self/fd")
    targets = [os.readlink(fd) for fd in fds.iterdir() if fd.is_symlink()]
    return [t for t in targets if t.startswith(str(path))]


def test_a_lease_keeps_its_generation_across_a_publish(settings: Settings,
                                                       manager: SnapshotManager) -> None:
    base = round(expected(team="search"), 2)
    with manager.lease() as first:
        assert search_total(first) == base
        republish(settings.db, 7)
        with manager.lease() as second:
            assert (first.number, second.number) == (1, 2)
            assert search_total(first) == base  # the old file, though it was replaced
            assert search_total(second) == round(base + 7, 2)
            assert manager.status().open_generations == 2
        assert len(open_snapshot_files(settings.snapshot_path)) == 2
    status = manager.status()
    assert (status.generation, status.open_generations, status.swaps) == (2, 1, 1)
    files = open_snapshot_files(settings.snapshot_path)
    assert files == [str(settings.snapshot_path)]  # the replaced file's handle is closed


def test_a_replaced_generation_without_leases_closes_at_once(
        settings: Settings, manager: SnapshotManager) -> None:
    for marker in (1, 2, 3):
        republish(settings.db, marker)
        with manager.lease() as generation:
            assert search_total(generation) == round(expected(team="search") + marker, 2)
    assert manager.status().open_generations == 1
    assert len(open_snapshot_files(settings.snapshot_path)) == 1


def test_the_file_is_checked_at_most_every_interval(settings: Settings) -> None:
    clock = Clock()
    snapshots = SnapshotManager(settings.snapshot_path, check_interval_s=0.5, clock=clock)
    try:
        with snapshots.lease() as generation:
            assert generation.number == 1
        republish(settings.db, 5)
        clock.now = 0.4
        with snapshots.lease() as generation:
            assert generation.number == 1
        clock.now = 0.6
        with snapshots.lease() as generation:
            assert generation.number == 2
    finally:
        snapshots.close()


def test_signature_changes_with_every_publish(settings: Settings) -> None:
    before = Signature.of(settings.snapshot_path)
    republish(settings.db, 1)
    after = Signature.of(settings.snapshot_path)
    assert before is not None and after is not None and before.inode != after.inode


def test_no_snapshot_is_unavailable_and_the_message_has_no_path(tmp_path: Path) -> None:
    path = tmp_path / "finops.published.duckdb"
    snapshots = SnapshotManager(path, check_interval_s=0)
    with pytest.raises(SnapshotUnavailable) as caught, snapshots.lease():
        pass
    assert "finops demo" in str(caught.value) and str(tmp_path) not in str(caught.value)
    assert str(path) in caught.value.where


def test_an_unreadable_new_file_keeps_the_current_generation(
        settings: Settings, manager: SnapshotManager, tmp_path: Path) -> None:
    with manager.lease() as generation:
        assert generation.number == 1
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"not a duckdb file" * 1000)
    os.replace(garbage, settings.snapshot_path)
    with manager.lease() as generation:
        assert generation.number == 1 and search_total(generation) > 0
    fresh = SnapshotManager(settings.snapshot_path, check_interval_s=0)
    with pytest.raises(SnapshotUnavailable, match="cannot be read"), fresh.lease():
        pass


def test_a_generation_reads_nothing_but_its_snapshot(manager: SnapshotManager,
                                                     tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    with manager.lease() as generation:
        cursor = generation.cursor()
        try:
            for sql in (f"SELECT * FROM read_csv('{outside}')",
                        "CREATE TABLE x AS SELECT 1",
                        "SET enable_external_access = true",
                        f"ATTACH '{tmp_path / 'other.duckdb'}' AS other"):
                with pytest.raises(duckdb.Error):
                    cursor.execute(sql)
            limits = cursor.execute("SELECT current_setting('threads')").fetchone()
            assert limits == (1,)
        finally:
            cursor.close()


@pytest.mark.integration
def test_the_api_serves_a_republished_snapshot_without_a_restart(settings: Settings) -> None:
    fast = settings.model_copy(update={"reader": settings.reader.model_copy(
        update={"check_interval_ms": 0})})
    with TestClient(create_app(fast)) as client:
        before = client.get("/api/coverage", headers=auth("finance")).json()
        republish(settings.db, 12.34)
        after = client.get("/api/coverage", headers=auth("finance")).json()
        metrics = client.get("/metrics").text
    assert after["total_effective_cost"] == round(before["total_effective_cost"] + 12.34, 2)
    assert after["window"]["end"] == str(DAYS[-1])
    assert "finops_snapshot_swaps_total 1" in metrics
    assert "finops_snapshot_generation 2" in metrics
    assert "finops_snapshot_generations_open 1" in metrics
