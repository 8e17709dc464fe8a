"""Process-wide settings of the native libraries, fixed before Polars loads (``finops``'s
``__init__`` applies them): Polars reads its allocator's settings and sizes its thread pool
once, when it is imported.

- Polars allocates through its bundled jemalloc, which by default returns freed pages to the
  OS almost at once. The allocation engine builds and drops ~1 GB of frames per day of
  pod-hours, so those pages came straight back as page faults: a third of its CPU time was
  kernel time. Keeping freed pages for 10 s cut a day's engine CPU by ~25% for ~250 MB more
  peak RSS (benchmarks/README.md).
- Polars keeps its default pool (one thread per core) in every command. ``finops allocate``
  ran it on one thread until 2026-12-02; once the bill's compaction left the run's reads,
  Polars' engine was the run's one limit, and two Polars threads beside DuckDB on one
  (``finops.pipeline.allocate.run_settings``) took 8-15% off its wall at L for ~5% more CPU.

A value already in the environment wins over each of these.

The ``finops`` process also skips two costs of the interpreter's own (``starting``,
``started``, ``exit_now``): garbage collections while its modules are imported (~70,000
objects, all kept: a collection frees none of them), and the teardown at exit, which
collects and frees the whole heap object by object (0.2-0.3 s after a one-day allocation)
although the process is about to end.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

JEMALLOC = "dirty_decay_ms:10000,muzzy_decay_ms:10000"
VALUE_OPTIONS = frozenset({"--db", "--config"})  # the CLI's global options taking a value
# (here, not in finops.cli: this module runs before anything heavy is imported)


def command_of(args: Sequence[str]) -> str | None:
    """The subcommand of a ``finops`` command line (``args`` without the program), or None:
    the first word that is neither a global option nor its value. ``finops.cli`` imports
    the command's modules by it."""
    rest = iter(args)
    for arg in rest:
        if arg in VALUE_OPTIONS:
            next(rest, None)
        elif not arg.startswith("-"):
            return arg
    return None


def is_finops(program: str) -> bool:
    """Whether ``program`` (``sys.argv[0]`` while ``finops`` is imported) is the ``finops``
    command: its console script, or ``python -m finops`` (``-m`` until runpy replaces it)."""
    return os.path.basename(program) == "finops" or program == "-m"


def configure(args: Sequence[str], environ: dict[str, str] | os._Environ[str] = os.environ,
              ) -> None:
    """Set the native libraries' environment for a process running ``finops`` ``args``. Every
    command is set up alike at present; ``args`` stays because the harness and
    ``benchmarks.parity`` call this with the command line on every version they compare."""
    environ.setdefault("_RJEM_MALLOC_CONF", JEMALLOC)


def starting() -> None:
    """No garbage collection while the ``finops`` process imports its modules (``started``
    turns it back on)."""
    gc.disable()


def started() -> None:
    """The command's modules are imported: keep their objects out of every later collection
    (``gc.freeze``) and collect again."""
    gc.freeze()
    gc.enable()


def exit_now(code: int) -> NoReturn:
    """End the ``finops`` process with ``code`` once its output is flushed and its ``atexit``
    handlers ran (logging, temporary folders, worker pools), without the interpreter's
    teardown. When a non-daemon thread is still running, the interpreter's own exit waits
    for it as usual."""
    if any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone (`| head`), closed
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
