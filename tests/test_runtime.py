"""The native libraries' process settings: jemalloc's decay, Polars' default pool in every command;
the ``finops`` process's start (no collections while importing) and exit (no teardown)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from finops.runtime import JEMALLOC, command_of, configure, exit_now, is_finops
from finops.warehouse import Warehouse


@pytest.mark.parametrize(("args", "command"), [
    (["allocate", "--start", "2026-10-01"], "allocate"),
    (["--db", "allocate", "--config", "run", "allocate"], "allocate"),  # option values skipped
    (["--debug", "--no-publish", "run"], "run"),
    (["--db", "x.duckdb"], None),
    ([], None),
    (["--db=w.duckdb", "--no-publish", "run"], "run"),
    (["--db", "w.duckdb", "--config", "f.yaml", "--debug", "ingest", "focus"], "ingest"),
    (["--help"], None),
])
def test_command_of_finds_the_subcommand(args: list[str], command: str | None) -> None:
    assert command_of(args) == command


def test_every_command_gets_the_allocator_setting_and_the_environment_wins() -> None:
    for command in (["--db", "w.duckdb", "allocate"], ["serve"], ["run"], []):
        env: dict[str, str] = {}
        configure(command, env)
        assert env == {"_RJEM_MALLOC_CONF": JEMALLOC}
    env = {"POLARS_MAX_THREADS": "4", "_RJEM_MALLOC_CONF": "x"}
    configure(["allocate"], env)
    assert env == {"POLARS_MAX_THREADS": "4", "_RJEM_MALLOC_CONF": "x"}


def test_is_finops_knows_the_command_and_python_dash_m() -> None:
    assert is_finops("/usr/local/bin/finops") and is_finops("-m")
    assert not is_finops("/usr/bin/pytest") and not is_finops("/srv/finops/benchmarks/stage.py")


def pool_size(argv: list[str]) -> int:
    """Polars' pool size in a fresh interpreter whose command line is ``argv`` when finops
    (then Polars) is imported."""
    code = (f"import sys; sys.argv = {argv!r}; import finops, polars; "
            "print(polars.thread_pool_size())")
    env = {"PATH": "/usr/bin:/bin"}  # no POLARS_MAX_THREADS inherited from the test run
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    return int(done.stdout.strip())


@pytest.mark.integration  # fresh interpreters: Polars sizes its pool once, at import
def test_polars_keeps_its_default_pool_in_finops_allocate() -> None:
    default = pool_size(["/usr/bin/python3"])
    assert default == (os.cpu_count() or 1)
    assert pool_size(["/venv/bin/finops", "--db", "w.duckdb", "allocate"]) == default
    assert pool_size(["-m", "allocate", "--start", "2026-10-01"]) == default


# The ``finops`` process (sys.argv[0] "finops" when finops is imported) running ``sql``
# against ``argv[1]``'s missing or present warehouse, with an atexit handler of its own.
PROCESS = ("import atexit, gc, sys\n"
           "sys.argv = ['finops', '--db', sys.argv[1], 'sql', 'select 42 as answer',\n"
           "            '--format', 'csv']\n"
           "import finops.cli\n"
           "assert not gc.isenabled()  # off while the command's modules are imported\n"
           "atexit.register(lambda: print(f'atexit ran, gc on: {gc.isenabled()}, frozen: '\n"
           "                              f'{gc.get_freeze_count() > 0}', file=sys.stderr))\n"
           "finops.cli.main()\n"
           "print('not reached', file=sys.stderr)\n")


@pytest.mark.integration  # fresh interpreters: the process's own start and exit
def test_the_finops_process_exits_with_its_code_after_flushing_and_atexit(
        tmp_path: Path) -> None:
    failed = subprocess.run([sys.executable, "-c", PROCESS, str(tmp_path / "none.duckdb")],
                            capture_output=True, text=True, check=False, timeout=120)
    assert failed.returncode == 1, failed.stderr
    assert failed.stderr.startswith("Error: no published warehouse")
    assert "atexit ran, gc on: True, frozen: True" in failed.stderr
    assert "not reached" not in failed.stderr
    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.publish()
    done = subprocess.run([sys.executable, "-c", PROCESS, str(tmp_path / "w.duckdb")],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "answer\n42\n"  # stdout flushed before the exit
    assert "atexit ran, gc on: True, frozen: True" in done.stderr


def test_exit_now_waits_for_a_running_non_daemon_thread() -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait, daemon=False)
    worker.start()
    try:
        with pytest.raises(SystemExit) as raised:  # the interpreter's exit: joins the thread
            exit_now(3)
        assert raised.value.code == 3
    finally:
        release.set()
        worker.join()
