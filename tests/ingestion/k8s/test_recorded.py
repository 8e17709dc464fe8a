"""Recorded usage: a directory of <table>.parquet files replaces the window it covers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from finops.errors import InputError
from finops.warehouse import Warehouse
from ingestion import recorded
from models.schemas import K8S_NAMESPACE, K8S_POD_HOUR

H = [datetime(2026, 10, 1, h) for h in range(4)]


def pods(hours: list[datetime], uid: str, cpu: float) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "cluster": "prod",
                "namespace": "shop",
                "pod": uid,
                "pod_uid": uid,
                "hour": h,
                "node": "n1",
                "running_seconds": 3600.0,
                "cpu_request": cpu,
                "labels": [{"key": "team", "value": "alpha"}],
            }
            for h in hours
        ]
    )


def write(directory: Path, frames: dict[str, pl.DataFrame]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.write_parquet(directory / f"{name}.parquet")
    return directory


def namespaces(team: str) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "cluster": "prod",
                "namespace": "shop",
                "valid_from": H[0],
                "valid_to": None,
                "labels": [{"key": "team", "value": team}],
                "annotations": [],
            }
        ],
        schema_overrides={"valid_to": pl.Datetime("us")},
    )


def test_load_replaces_the_window_and_namespaces(warehouse: Warehouse, tmp_path: Path) -> None:
    first = write(
        tmp_path / "a", {"k8s_pod_hour": pods(H, "p1", 0.5), "k8s_namespace": namespaces("alpha")}
    )
    recorded.load_usage(warehouse, first)
    # the second recording covers hours 1-2 only, with another pod: p1 vanishes from 1-2
    second = write(
        tmp_path / "b",
        {"k8s_pod_hour": pods(H[1:3], "p2", 0.25), "k8s_namespace": namespaces("beta")},
    )
    run = recorded.load_usage(warehouse, second)
    assert run.status == "ok"
    rows = warehouse.frame(
        "SELECT pod, hour, cpu_request, labels['team'] AS team, x_source "
        "FROM k8s_pod_hour ORDER BY hour"
    )
    assert rows.rows() == [
        ("p1", H[0], 0.5, "alpha", "recorded"),
        ("p2", H[1], 0.25, "alpha", "recorded"),
        ("p2", H[2], 0.25, "alpha", "recorded"),
        ("p1", H[3], 0.5, "alpha", "recorded"),
    ]
    ns = warehouse.frame("SELECT labels['team'] AS team FROM k8s_namespace")
    assert ns["team"].to_list() == ["beta"]


def test_bad_files_name_the_problem_and_change_nothing(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    recorded.load_usage(warehouse, write(tmp_path / "ok", {"k8s_pod_hour": pods(H, "p1", 0.5)}))
    before = warehouse.frame("SELECT * FROM k8s_pod_hour ORDER BY ALL")
    bad = write(
        tmp_path / "extra",
        {
            "k8s_pod_hour": pods(H, "p9", 1.0).with_columns(oops=pl.lit(1)),
            "k8s_namespace": namespaces("x"),
        },
    )
    with pytest.raises(InputError, match=r"k8s_pod_hour.parquet: .*undeclared columns \['oops'\]"):
        recorded.load_usage(warehouse, bad)
    missing = write(tmp_path / "missing", {"k8s_pod_hour": pods(H, "p9", 1.0).drop("pod_uid")})
    with pytest.raises(InputError, match=r"missing column\(s\) \['pod_uid'\]"):
        recorded.load_usage(warehouse, missing)
    nulls = write(
        tmp_path / "nulls",
        {
            "k8s_pod_hour": pods(H, "p9", 1.0).with_columns(
                hour=pl.when(pl.col("pod") == "p9").then(None).otherwise(pl.col("hour"))
            )
        },
    )
    with pytest.raises(InputError, match="row 0: column hour is empty"):
        recorded.load_usage(warehouse, nulls)
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "cost_line.parquet").write_bytes(b"x")
    with pytest.raises(InputError, match="unknown file"):
        recorded.load_usage(warehouse, tmp_path / "odd")
    with pytest.raises(InputError, match="not a directory"):
        recorded.load_usage(warehouse, tmp_path / "nope")
    assert warehouse.frame("SELECT * FROM k8s_pod_hour ORDER BY ALL").equals(before)
    assert K8S_POD_HOUR.name in recorded.TABLES and K8S_NAMESPACE.name in recorded.TABLES
