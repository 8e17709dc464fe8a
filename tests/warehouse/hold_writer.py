"""A real writer process for the writers-queue tests: ``python hold_writer.py DB MODE``.

It opens the warehouse (taking the writer lock), prints ``holding`` and keeps it until a line
arrives on stdin. MODE ``spool`` first starts a streamed load and stops in the middle of it,
with two batches spooled beside the db (what a writer killed mid-load leaves behind).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import polars as pl

from finops.pipeline.store import store
from finops.warehouse import Warehouse
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import COST_LINE

COMMAND = "finops ingest focus bills.csv (test holder)"


def _batches() -> Iterator[pl.DataFrame]:
    # two batches: a stream of one frame is loaded as it is, not spooled (pipeline.store)
    for account in ("1", "2"):
        yield pl.DataFrame({"billing_account_id": [account], "effective_cost": [1.0],
                            "billing_period_start": [datetime(2026, 10, 1)], "x_source": ["t"]})
    print("spooling", flush=True)
    sys.stdin.readline()  # killed here by the test
    raise SystemExit(3)


def main(db: Path, mode: str) -> None:
    with Warehouse(db, command=COMMAND, lock_timeout_s=0) as warehouse:
        if mode == "spool":
            run = IngestRun(new_run_id("t"), "t", None, None, [])
            store(warehouse, Load(run, [Replace(COST_LINE, _batches(), keys=("x_source",))]))
        print("holding", flush=True)
        sys.stdin.readline()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
