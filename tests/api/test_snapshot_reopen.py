"""Readers follow the writer: a republished snapshot is picked up without a restart."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import polars as pl
from fastapi.testclient import TestClient
from fixture_warehouse import DAYS, allocation_frame, auth, build, expected

from finops.api import create_app
from finops.warehouse import Warehouse
from models.loads import IngestRun, Load, Replace
from models.schemas import ALLOCATION


def test_republished_snapshot_is_reopened(tmp_path: Path) -> None:
    settings = build(tmp_path)
    with TestClient(create_app(settings)) as client:
        before = client.get("/api/teams", headers=auth("finance")).json()
        assert before["window"]["end"] == str(DAYS[-1])

        extra_day = DAYS[-1] + timedelta(days=1)
        new_rows = allocation_frame().head(3).with_columns(pl.lit(extra_day).alias("day"))
        with Warehouse(settings.db) as wh:
            wh.load(Load(IngestRun("more", "fixture", None, None, []),
                         [Replace(ALLOCATION, new_rows, "day = $d", {"d": extra_day})]))
            wh.publish()
        # mtime granularity can be coarse: make sure the published file looks newer
        stat = settings.snapshot_path.stat()
        os.utime(settings.snapshot_path, (stat.st_atime, stat.st_mtime + 5))

        after = client.get("/api/coverage", headers=auth("finance")).json()
        assert after["window"]["end"] == str(extra_day)
        added = float(new_rows["effective_cost"].sum())
        window_total = expected(extra_day - timedelta(days=29)) + added
        assert after["total_effective_cost"] == round(window_total, 2)
