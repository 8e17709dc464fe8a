"""Writers queue: one writer at a time, a second one waits (saying for what), then proceeds
or gives up; a killed writer's lock and leftovers never block anyone."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finops.warehouse import Warehouse
from finops.warehouse_lock import lock_path, read_holder, spool_prefix
from models.errors import WarehouseBusy
from tests.support import finops_command, run_finops

HOLDER = Path(__file__).with_name("hold_writer.py")
HOLDER_COMMAND = "finops ingest focus bills.csv (test holder)"
Start = Callable[[Path, str], subprocess.Popen[str]]


@pytest.fixture
def start_holder() -> Iterator[Start]:
    """Start a real writer process that holds the lock until told (or killed)."""
    started: list[subprocess.Popen[str]] = []

    def start(db: Path, mode: str = "hold") -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, str(HOLDER), str(db), mode], text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        started.append(process)
        assert process.stdout is not None
        said = process.stdout.readline().strip()
        assert said == ("spooling" if mode == "spool" else "holding"), said
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("done\n")
    holder.stdin.flush()
    assert holder.wait(timeout=20) == 0


def wait_for_text(path: Path, text: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in path.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in:\n{path.read_text()}")


def test_the_lock_records_who_holds_it(tmp_path: Path) -> None:
    db = tmp_path / "finops.duckdb"
    with Warehouse(db, command="finops allocate --start 2026-10-01"):
        holder = read_holder(lock_path(db))
        assert holder.startswith(f"pid {os.getpid()} (finops allocate --start 2026-10-01, since ")
    assert lock_path(db).read_text() == ""  # released: nobody to name


def test_a_second_open_in_the_same_process_fails_at_once(tmp_path: Path) -> None:
    db = tmp_path / "finops.duckdb"
    with Warehouse(db):
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match="already open for writing in this process"):
            Warehouse(db, lock_timeout_s=60)
        assert time.monotonic() - started < 1
    Warehouse(db, lock_timeout_s=0).close()  # and it is free again afterwards


def test_a_warehouse_dropped_without_close_frees_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "finops.duckdb"
    dropped = Warehouse(db)
    del dropped
    gc.collect()
    Warehouse(db, lock_timeout_s=0).close()


def test_opening_removes_only_this_warehouse_s_leftovers(tmp_path: Path) -> None:
    db = tmp_path / "finops.duckdb"
    mine = tmp_path / f"{spool_prefix(db)}abc123"
    other = tmp_path / f"{spool_prefix(tmp_path / 'other.duckdb')}abc123"
    publish_copy = tmp_path / ".finops.published.duckdb.4711.tmp"
    for spool in (mine, other):
        spool.mkdir()
        (spool / "000001.parquet").write_bytes(b"x")
    publish_copy.write_bytes(b"half a copy")
    said: list[str] = []
    Warehouse(db, notify=said.append).close()
    assert not mine.exists() and not publish_copy.exists()
    assert other.exists()  # another warehouse's writer may be using it right now
    assert sorted(said) == sorted(f"Removed {p}, left behind by an interrupted run."
                                  for p in (mine, publish_copy))


@pytest.mark.integration
@pytest.mark.slow
def test_a_second_writer_waits_for_the_first_then_proceeds(tmp_path: Path,
                                                           start_holder: Start) -> None:
    db = tmp_path / "finops.duckdb"
    holder = start_holder(db, "hold")
    err = tmp_path / "second.err"
    with err.open("w") as stream:
        second = subprocess.Popen(finops_command(["--db", str(db), "budgets", "check"]),
                                  stdout=subprocess.DEVNULL, stderr=stream,
                                  env={**os.environ, "FINOPS_LOCK_TIMEOUT_S": "120"})
    try:
        wait_for_text(err, "Waiting for the warehouse")
        time.sleep(0.5)
        assert second.poll() is None, err.read_text()  # still queued, not failed
        release(holder)
        assert second.wait(timeout=60) == 0, err.read_text()
    finally:
        if second.poll() is None:
            second.kill()
    said = err.read_text()
    assert f"Waiting for the warehouse {db}: another writer holds it, pid {holder.pid} " \
           f"({HOLDER_COMMAND}, since " in said
    assert "FINOPS_LOCK_TIMEOUT_S" in said and f"Got the warehouse {db}" in said


@pytest.mark.integration
@pytest.mark.slow
def test_a_second_writer_gives_up_after_the_timeout(tmp_path: Path,
                                                    start_holder: Start) -> None:
    db = tmp_path / "finops.duckdb"
    holder = start_holder(db, "hold")
    started = time.monotonic()
    done = run_finops(["--db", str(db), "budgets", "check", "--send"],
                      env={"FINOPS_LOCK_TIMEOUT_S": "1", "FINOPS_SLACK__TOKEN": "xoxb-unused"})
    assert done.returncode == 1
    assert f"Error: warehouse {db} is still held by pid {holder.pid} ({HOLDER_COMMAND}" \
           in done.stderr
    assert "after waiting 1s" in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 30
    release(holder)  # the holder was never disturbed


@pytest.mark.integration
def test_a_killed_writer_blocks_nobody_and_its_spool_is_removed(tmp_path: Path,
                                                                start_holder: Start) -> None:
    db = tmp_path / "finops.duckdb"
    holder = start_holder(db, "spool")  # killed in the middle of a streamed load
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    [spool] = tmp_path.glob(spool_prefix(db) + "*")
    assert list(spool.rglob("*.parquet"))
    done = run_finops(["--db", str(db), "budgets", "check"], env={"FINOPS_LOCK_TIMEOUT_S": "0"})
    assert done.returncode == 0, done.stderr
    assert "Waiting" not in done.stderr  # the kernel released the dead writer's lock
    assert f"Removed {spool}, left behind by an interrupted run." in done.stderr
    assert not spool.exists()
