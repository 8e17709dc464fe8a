"""The worker pool with real worker processes on a real DuckDB snapshot: limits, kills,
replacement, the queue, snapshot swaps, and what a worker inherits. (Every SQL test runs
workers; these are about the processes themselves, so they carry the integration marker.)"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pytest

from finops.sandbox import Sandbox, worker_spec
from finops.settings import SqlSettings
from finops.sqlworker.pool import WorkerPool
from finops.sqlworker.protocol import Job
from models.errors import QueryMemoryExceeded, QueryTimeout, SandboxBusy, SandboxUnavailable
from tests.support import UNINTERRUPTIBLE


def snapshot(path: Path, rows: int) -> Path:
    """A published snapshot as the writer makes one: built aside, then os.replace'd."""
    aside = path.with_suffix(".new")
    with duckdb.connect(str(aside)) as con:
        con.execute(f"CREATE TABLE t AS SELECT range AS i FROM range({rows})")
    os.replace(aside, path)
    return path


pytestmark = pytest.mark.integration


@pytest.fixture
def published(tmp_path: Path) -> Path:
    return snapshot(tmp_path / "finops.published.duckdb", 3)


@contextmanager
def pool_on(path: Path, **sql: Any) -> Iterator[WorkerPool]:
    settings = SqlSettings(**{"workers": 1, "queue": 0, **sql})
    pool = WorkerPool(worker_spec(path, settings), settings)
    try:
        yield pool
    finally:
        pool.close()


def ask(pool: WorkerPool, sql: str) -> dict[str, Any]:
    return pool.run(Job(sql, max_rows=100))


def test_a_worker_answers_and_is_reused(published: Path) -> None:
    with pool_on(published) as pool:
        assert ask(pool, "SELECT count(*) FROM t")["rows"] == [[3]]
        first = pool.pids()
        assert ask(pool, "SELECT max(i) FROM t")["rows"] == [[2]]
        assert pool.pids() == first and len(first) == 1


def test_a_worker_holds_the_memory_cap_and_no_secret(published: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINOPS_SLACK__TOKEN", "xoxb-do-not-leak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak-either")
    with pool_on(published, memory_cap_mb=768) as pool:
        ask(pool, "SELECT 1")
        (pid,) = pool.pids()
        limits = Path(f"/proc/{pid}/limits").read_text()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    data = next(line for line in limits.splitlines() if line.startswith("Max data size"))
    assert data.split()[3:5] == [str(768 << 20), str(768 << 20)]
    assert b"do-not-leak" not in environ and b"FINOPS_" not in environ


def test_a_query_past_its_limit_is_killed_and_replaced(published: Path) -> None:
    with pool_on(published, time_limit_ms=300, grace_ms=200) as pool:
        ask(pool, "SELECT 1")
        (before,) = pool.pids()
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match="time limit of 300 ms") as stopped:
            ask(pool, UNINTERRUPTIBLE)
        assert time.monotonic() - started < 0.5 + 0.5  # limit + grace + a little
        assert stopped.value.killed and not psutil.pid_exists(before)
        assert ask(pool, "SELECT count(*) FROM t")["rows"] == [[3]]
        assert pool.pids() != [before]


def test_an_interrupted_query_keeps_its_worker(published: Path) -> None:
    with pool_on(published, time_limit_ms=300, grace_ms=1000) as pool:
        ask(pool, "SELECT 1")
        before = pool.pids()
        with pytest.raises(QueryTimeout) as stopped:
            ask(pool, "SELECT count(*) FROM range(1000000000) a, range(1000) b")
        assert not stopped.value.killed and pool.pids() == before


def test_the_os_cap_stops_what_duckdb_lets_through(published: Path) -> None:
    # DuckDB builds the 160 MB list well inside its own limit (3/4 of the cap); turning it
    # into 20 million Python ints needs ~700 MB more, which only the OS cap refuses.
    with pool_on(published, memory_cap_mb=512) as pool:
        ask(pool, "SELECT 1")
        (before,) = pool.pids()
        started = time.monotonic()
        with pytest.raises(QueryMemoryExceeded, match="memory limit of 512 MiB"):
            ask(pool, "SELECT range(20000000) AS r")
        assert time.monotonic() - started < 5
        assert ask(pool, "SELECT 2")["rows"] == [[2]] and pool.pids() != [before]


def test_a_worker_that_dies_mid_query_is_reported_and_replaced(published: Path) -> None:
    with pool_on(published, time_limit_ms=10_000) as pool:
        ask(pool, "SELECT 1")
        (pid,) = pool.pids()
        threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
        with pytest.raises(QueryMemoryExceeded, match="died \\(killed by SIGKILL\\)") as died:
            ask(pool, UNINTERRUPTIBLE)
        assert died.value.killed
        assert ask(pool, "SELECT 3")["rows"] == [[3]]


@pytest.mark.slow
def test_a_full_queue_is_refused_with_a_retry_after(published: Path) -> None:
    with pool_on(published, time_limit_ms=1500, grace_ms=500) as pool:
        ask(pool, "SELECT 1")
        busy = threading.Thread(target=lambda: pytest.raises(QueryTimeout, ask, pool,
                                                             UNINTERRUPTIBLE))
        busy.start()
        time.sleep(0.3)
        started = time.monotonic()
        with pytest.raises(SandboxBusy) as refused:
            ask(pool, "SELECT 1")
        assert time.monotonic() - started < 0.1  # refused at once, not after waiting
        assert refused.value.status == 429 and refused.value.retry_after_s == math.ceil(2.0)
        busy.join()


def test_a_queued_query_waits_for_a_worker(published: Path) -> None:
    with pool_on(published, queue=1, time_limit_ms=300, grace_ms=200) as pool:
        ask(pool, "SELECT 1")
        busy = threading.Thread(target=lambda: pytest.raises(QueryTimeout, ask, pool,
                                                             UNINTERRUPTIBLE))
        busy.start()
        time.sleep(0.1)
        assert ask(pool, "SELECT count(*) FROM t")["rows"] == [[3]]  # after the kill
        busy.join()


def test_workers_reopen_a_republished_snapshot(published: Path) -> None:
    with pool_on(published) as pool:
        assert ask(pool, "SELECT count(*) FROM t")["rows"] == [[3]]
        snapshot(published, 5)
        assert ask(pool, "SELECT count(*) FROM t")["rows"] == [[5]]


def test_a_missing_snapshot_is_a_warehouse_error(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "none.duckdb", SqlSettings(workers=1)) as sandbox, \
            pytest.raises(Exception, match="no published warehouse") as missing:
        sandbox.run("SELECT 1")
    assert missing.value.status == 503  # type: ignore[attr-defined]


def test_a_worker_that_cannot_start_is_a_503(published: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")  # an interpreter that fails at once
    with pool_on(published) as pool, \
            pytest.raises(SandboxUnavailable, match="could not start \\(exit code 1\\)") as down:
        ask(pool, "SELECT 1")
    assert down.value.status == 503


def test_a_worker_that_cannot_be_spawned_is_a_503_and_retried(
        published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pool_on(published) as pool:
        with monkeypatch.context() as patched:
            patched.setattr(sys, "executable", str(published.parent / "no-such-python"))
            for _ in range(2):
                with pytest.raises(SandboxUnavailable, match="could not be started"):
                    ask(pool, "SELECT 1")
        assert ask(pool, "SELECT 1")["rows"] == [[1]]  # the place gets a worker once it can


def test_close_answers_running_and_queued_queries(published: Path) -> None:
    with pool_on(published, queue=1, time_limit_ms=10_000) as pool:
        ask(pool, "SELECT 1")
        errors: list[BaseException] = []

        def query() -> None:
            with pytest.raises(SandboxUnavailable, match="shutting down") as stopped:
                ask(pool, UNINTERRUPTIBLE)
            errors.append(stopped.value)

        callers = [threading.Thread(target=query) for _ in range(2)]
        for caller in callers:
            caller.start()
        time.sleep(0.5)
        started = time.monotonic()
        pool.close()
        for caller in callers:
            caller.join(timeout=5)
        assert len(errors) == 2 and time.monotonic() - started < 2


def test_close_kills_every_worker(published: Path) -> None:
    with pool_on(published, workers=2) as pool:
        ask(pool, "SELECT 1")
        pids = pool.pids()
    assert len(pids) == 2 and not any(psutil.pid_exists(pid) for pid in pids)
