"""Process-wide settings of the native libraries, fixed before Polars loads (``finops``'s
``__init__`` applies them): Polars reads its allocator's settings and sizes its thread pool
once, when it is imported.

- Polars allocates through its bundled jemalloc, which by default returns freed pages to the
  OS almost at once. The allocation engine builds and drops ~1 GB of frames per day of
  pod-hours, so those pages came straight back as page faults: a third of its CPU time was
  kernel time. Keeping freed pages for 10 s cut a day's engine CPU by ~25% for ~250 MB more
  peak RSS (benchmarks/README.md).
- Polars keeps its default pool (one thread per core) in every command. ``finops allocate``
  ran it on one thread until session 5; with DuckDB on one thread during the run instead
  (``finops.pipeline.allocate.run_settings``), two Polars threads let the engine's work of
  one day overlap the reading thread's of the next on both cores, for no more CPU.

A value already in the environment wins.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

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
    """Set the native libraries' environment for a process running ``finops`` ``args`` (the
    same for every command at present)."""
    environ.setdefault("_RJEM_MALLOC_CONF", JEMALLOC)
