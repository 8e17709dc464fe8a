"""Runs of the demo's allocation under a runner, and the equality of two allocations.

``demo_copy`` copies the session's demo warehouse (``tests.support.demo``) so a test may
allocate it again; ``allocate_with`` runs ``run_allocation`` on it under a runner;
``assert_same_allocation`` holds two ``allocation`` tables equal: the same rows (every column
but ``run_id``), money equal to 1e-9 (parallel sums may add in another order; a cent is
1e-2).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl

from finops.demo import DEMO_CONFIG
from finops.pipeline.allocate import RunSummary, run_allocation
from finops.pipeline.runner import Runner
from finops.warehouse import Warehouse
from models.config import load_config

MONTH = (date(2026, 10, 1), date(2026, 10, 31))


def demo_copy(demo_db: Path, to: Path) -> Path:
    """A writable copy of the demo's warehouse (``demo_db`` is its published snapshot)."""
    to.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(demo_db.with_name("finops.duckdb"), to / "finops.duckdb")
    return to / "finops.duckdb"


def allocate_with(db: Path, runner: Runner | None, window: tuple[date, date] = MONTH,
                  ) -> tuple[RunSummary, pl.DataFrame]:
    with Warehouse(db) as wh:
        summary = run_allocation(wh, load_config(DEMO_CONFIG), *window, runner=runner)
        return summary, allocation_of(wh)


def allocation_of(wh: Warehouse) -> pl.DataFrame:
    """``allocation`` without ``run_id``, in the order of its keys (the columns not money)."""
    return ordered(wh.frame("SELECT * EXCLUDE (run_id) FROM allocation"))


def _money(frame: pl.DataFrame) -> list[str]:
    return [c for c, kind in frame.schema.items() if kind.is_float() or kind.is_decimal()]


def ordered(frame: pl.DataFrame) -> pl.DataFrame:
    keys = [c for c in frame.columns if c not in _money(frame)]
    return frame.sort(keys, nulls_last=True)


def assert_same_allocation(got: pl.DataFrame, want: pl.DataFrame) -> None:
    money = _money(want)
    keys = [c for c in want.columns if c not in money]
    got, want = ordered(got), ordered(want)
    assert got.height == want.height > 0
    assert got.select(keys).equals(want.select(keys)), "the rows differ"
    worst = (got.select(pl.col(money).cast(pl.Float64))
             - want.select(pl.col(money).cast(pl.Float64))).select(pl.all().abs().max()).row(0)
    assert max(worst) < 1e-9, dict(zip(money, worst, strict=True))
