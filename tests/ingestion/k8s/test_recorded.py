"""Recorded usage: a directory of <table>.parquet files replaces the window it covers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from finops.demo import DEMO_DIR
from finops.pipeline.store import ingest
from finops.warehouse import Warehouse
from ingestion.k8s import recorded
from models.errors import InputError, WarehouseError
from models.loads import IngestRun
from models.schemas import K8S_NAMESPACE, K8S_POD_HOUR, conform

H = [datetime(2026, 10, 1, h) for h in range(4)]
HOUR = timedelta(hours=1)
# the demo's recorded usage (finops/demo/data/README.md: seeded synthetic generator, size S)
DEMO = DEMO_DIR / "usage"


def load_usage(warehouse: Warehouse, directories: Path | list[Path]) -> IngestRun:
    """Load recordings as ``finops ingest usage`` does."""
    given = [directories] if isinstance(directories, Path) else directories
    [run] = ingest(warehouse, recorded.SOURCE, given,
                   lambda _work: [recorded.usage_load(directories)])
    return run


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
    load_usage(warehouse, first)
    # the second recording covers hours 1-2 only, with another pod: p1 vanishes from 1-2
    second = write(
        tmp_path / "b",
        {"k8s_pod_hour": pods(H[1:3], "p2", 0.25), "k8s_namespace": namespaces("beta")},
    )
    run = load_usage(warehouse, second)
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
    load_usage(warehouse, write(tmp_path / "ok", {"k8s_pod_hour": pods(H, "p1", 0.5)}))
    before = warehouse.frame("SELECT * FROM k8s_pod_hour ORDER BY ALL")
    missing = write(tmp_path / "missing", {"k8s_pod_hour": pods(H, "p9", 1.0).drop("pod_uid")})
    with pytest.raises(
        InputError, match=r"k8s_pod_hour.parquet: missing column\(s\) \['pod_uid'\]"
    ):
        load_usage(warehouse, missing)
    nulls = write(
        tmp_path / "nulls",
        {"k8s_pod_hour": pods(H, "p9", 1.0).with_row_index().with_columns(
            namespace=pl.when(pl.col("index") == 2).then(None).otherwise(pl.col("namespace"))
        ).drop("index")},
    )
    with pytest.raises(
        InputError, match=r"nulls/k8s_pod_hour.parquet: row 2: column namespace is empty"
    ):
        load_usage(warehouse, nulls)
    typed = write(
        tmp_path / "typed",
        {"k8s_pod_hour": pods(H, "p9", 1.0).with_columns(cpu_request=pl.lit("lots"))},
    )
    with pytest.raises(
        InputError,
        match=r"typed/k8s_pod_hour.parquet: column cpu_request is VARCHAR, expected DOUBLE",
    ):
        load_usage(warehouse, typed)
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "k8s_node_hour.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"garbage/k8s_node_hour.parquet: not a readable Parquet"):
        load_usage(warehouse, garbage)
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "cost_line.parquet").write_bytes(b"x")
    with pytest.raises(InputError, match="unknown file"):
        load_usage(warehouse, tmp_path / "odd")
    with pytest.raises(InputError, match="not a directory"):
        load_usage(warehouse, tmp_path / "nope")
    # a good recording with a bad one: checked first, so nothing of the good one loads either
    good = write(tmp_path / "good", {"k8s_pod_hour": pods(H, "p7", 2.0)})
    with pytest.raises(InputError, match="row 2: column namespace is empty"):
        load_usage(warehouse, [good, nulls])
    assert warehouse.frame("SELECT * FROM k8s_pod_hour ORDER BY ALL").equals(before)
    assert K8S_POD_HOUR.name in recorded.TABLES and K8S_NAMESPACE.name in recorded.TABLES


def test_a_failure_while_inserting_rolls_everything_back(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """Duplicate label keys only fail inside the insert: the transaction must undo it all."""
    load_usage(warehouse, write(tmp_path / "ok", {"k8s_pod_hour": pods(H, "p1", 0.5)}))
    before = warehouse.frame("SELECT * FROM k8s_pod_hour ORDER BY ALL")
    twice = [{"key": "team", "value": "a"}, {"key": "team", "value": "b"}]
    bad = write(
        tmp_path / "dup",
        {
            "k8s_pod_hour": pods(H, "p2", 1.0),
            "k8s_namespace": namespaces("beta").with_columns(labels=pl.Series([twice])),
        },
    )
    with pytest.raises(WarehouseError, match="nothing changed"):
        load_usage(warehouse, bad)
    assert warehouse.frame("SELECT * FROM k8s_pod_hour ORDER BY ALL").equals(before)
    status = warehouse.frame("SELECT status FROM ingest_runs ORDER BY started_at")
    assert status["status"].to_list()[-1] == "failed"


def test_extra_columns_are_ignored_and_castable_types_load(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    frame = pods(H[:2], "p1", 0.5).with_columns(
        oops=pl.lit(1),  # a column no table declares
        running_seconds=pl.lit(1800, pl.Int32),  # int seconds: cast to DOUBLE
        hour=pl.col("hour").cast(pl.Datetime("ns")),
        memory_request=pl.lit(2**30, pl.Int64),
    )
    run = load_usage(warehouse, write(tmp_path / "a", {"k8s_pod_hour": frame}))
    assert run.status == "ok" and run.rows == 2
    rows = warehouse.frame(
        "SELECT hour, running_seconds, memory_request, labels['team'] AS team, x_source "
        "FROM k8s_pod_hour ORDER BY hour"
    )
    assert rows.rows() == [(h, 1800.0, float(2**30), "alpha", "recorded") for h in H[:2]]
    assert (run.window_start, run.window_end) == (H[0], H[2])


def test_a_directory_of_days_loads_as_one_run(warehouse: Warehouse, tmp_path: Path) -> None:
    month = tmp_path / "usage"
    write(month / "day=1", {"k8s_pod_hour": pods(H[:2], "p1", 0.5),
                            "k8s_namespace": namespaces("alpha")})
    write(month / "day=2", {"k8s_pod_hour": pods(H[2:], "p2", 0.25),
                            "k8s_namespace": namespaces("beta")})
    run = load_usage(warehouse, month)
    assert run.status == "ok" and (run.window_start, run.window_end) == (H[0], H[3] + HOUR)
    pods_loaded = warehouse.frame("SELECT pod, hour FROM k8s_pod_hour ORDER BY hour")
    assert pods_loaded.rows() == [("p1", H[0]), ("p1", H[1]), ("p2", H[2]), ("p2", H[3])]
    # the namespace history is the last day's, as if the days were loaded one by one
    ns = warehouse.frame("SELECT labels['team'] AS team FROM k8s_namespace")
    assert ns["team"].to_list() == ["beta"]


def test_demo_usage_loads_the_same_rows_as_the_polars_reader(warehouse: Warehouse) -> None:
    """The reference is what the loader did before: Polars read + conform + fill x_source."""
    run = load_usage(warehouse, DEMO)
    assert run.status == "ok"
    total = 0
    for path in sorted(DEMO.glob("*.parquet")):
        table = recorded.TABLES[path.stem]
        expected = conform(pl.read_parquet(path), table).with_columns(
            x_source=pl.col("x_source").fill_null("recorded")
        )
        got = warehouse.frame(f"SELECT * FROM {table.name}")
        assert got.height == expected.height > 0, table.name
        key = list(table.grain)
        got, expected = got.sort(key), expected.sort(key)
        assert got.equals(expected), table.name
        for column, dtype in table.schema.items():
            if dtype == pl.Float64:  # totals to the cent (summed in the same order)
                assert round(got[column].sum(), 2) == round(expected[column].sum(), 2), column
        total += expected.height
    assert run.rows == total
