"""The allocation engine: every dollar of the bill to a team, or to unowned spend with a reason.

Pure Polars: frames in, frames out. Only ``runner.py`` touches the warehouse. Entry point:
``engine.allocate(inputs, config, run_id) -> AllocationResult``.
"""

from __future__ import annotations
