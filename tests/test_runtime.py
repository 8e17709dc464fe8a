"""The native libraries' process settings: Polars on one thread for ``finops allocate`` only."""

from __future__ import annotations

import subprocess
import sys

import pytest

from finops.runtime import JEMALLOC, command_of, configure, is_finops


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


def test_only_allocate_is_single_threaded_and_the_environment_wins() -> None:
    env: dict[str, str] = {}
    configure(["--db", "w.duckdb", "allocate"], env)
    assert env == {"_RJEM_MALLOC_CONF": JEMALLOC, "POLARS_MAX_THREADS": "1"}
    for other in (["serve"], ["ingest", "aws-cur", "allocate.parquet"], ["run"]):
        env = {}
        configure(other, env)
        assert "POLARS_MAX_THREADS" not in env
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
def test_polars_pool_is_one_thread_in_finops_allocate_only() -> None:
    assert pool_size(["/venv/bin/finops", "--db", "w.duckdb", "allocate"]) == 1
    assert pool_size(["-m", "allocate", "--start", "2026-10-01"]) == 1
    assert pool_size(["/venv/bin/finops", "serve"]) == pool_size(["/usr/bin/python3"])
