"""The allocation engine: every dollar of the bill to a team, or to unowned spend with a reason.

Pure Polars, the whole package: frames in, frames out. No I/O (no warehouse, no DuckDB, no
file reads, no network), no threads, no clock. Entry points: ``engine.allocate_day`` and
``engine.allocate(inputs, config, run_id) -> AllocationResult``; ``prepare.prepare_day`` and
``engine.allocate_prepared`` for a runner that prepares one day while it allocates another.

May import ``models`` (schemas, config, errors); never ``finops.warehouse``,
``finops.pipeline`` (which reads its inputs and writes its rows), ``ingestion`` or an I/O
client. ``tests/allocation/test_purity.py`` holds every module of the package to that.
"""

from __future__ import annotations
