"""Orchestration: sources to the warehouse, the warehouse through the engine and back.

``store`` (spool a stream, then the warehouse's one load), ``inputs`` (the engine's inputs
read from the warehouse), ``runner`` (the runner interface and ``LocalRunner``; ``threads``
its stages), ``allocate`` (``allocate_days`` / ``run_allocation``: read, allocate, write,
read back the reconciliation), ``incremental`` (the days changed since their last
allocation). Owns the I/O around the engine so that ``finops.allocation`` has none.

May import ``finops.allocation``, ``finops.warehouse``, ``ingestion`` and ``models``; is
imported by the CLI (and later the scheduler), never by the engine, the warehouse or a
collector.
"""
