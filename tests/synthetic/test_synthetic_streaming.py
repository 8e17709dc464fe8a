"""The large-size paths of the generator, checked on a day or two of the small organisation:
GCP export as Parquet, usage by day, vectorised CUR line ids, the hourly expansion."""

from __future__ import annotations

import base64
import gzip
import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from finops.synthetic import size
from finops.synthetic.aws import _line_ids
from finops.synthetic.gcp import GcpWriter
from finops.synthetic.intervals import Intervals, build_intervals, hourly, pod_usage
from finops.synthetic.model import Org
from finops.synthetic.org import build_org
from finops.synthetic.usage import UsageWriter
from models.errors import InputError

DAY = (datetime(2026, 10, 5), datetime(2026, 10, 6))


@pytest.fixture(scope="module")
def org_intervals() -> tuple[Org, Intervals]:
    org = build_org(size("S"), 7)
    return org, build_intervals(org)


def _one_day(org: Org, frames: Intervals, out: Path, fmt: str) -> Path:
    writer = GcpWriter(out, org, fmt)
    writer.write_day(*DAY, hourly(frames.nodes, *DAY), hourly(frames.volumes, *DAY))
    writer.finish()
    return writer.path


def test_gcp_parquet_holds_the_same_rows_as_jsonl(org_intervals: tuple[Org, Intervals],
                                                  tmp_path: Path) -> None:
    org, frames = org_intervals
    parquet = pl.read_parquet(_one_day(org, frames, tmp_path / "p", "parquet"))
    with gzip.open(_one_day(org, frames, tmp_path / "j", "jsonl.gz"), "rb") as fh:
        jsonl = pl.read_ndjson(fh.read(), infer_schema_length=None)
    assert parquet.height == jsonl.height > 24
    assert round(parquet["cost"].sum(), 6) == round(jsonl["cost"].sum(), 6)
    key = ["usage_start_time", "cost"]
    assert parquet.select(key).sort(key).equals(jsonl.select(key).sort(key))
    labels = parquet.filter(pl.col("labels").list.len() > 0)["labels"][0].to_list()
    assert {"key": "goog-k8s-cluster-name", "value": "prod-gke"} in labels


def test_unknown_gcp_format_is_an_input_error(org_intervals: tuple[Org, Intervals],
                                              tmp_path: Path) -> None:
    with pytest.raises(InputError, match="csv"):
        GcpWriter(tmp_path, org_intervals[0], "csv")


def test_line_ids_equal_the_stdlib_base32_of_blake2b() -> None:
    frame = pl.DataFrame({
        "line_item_usage_account_id": ["345678901234", "456789012345"],
        "line_item_line_item_type": ["Usage", "Tax"],
        "line_item_product_code": ["AmazonEC2", "AmazonS3"],
        "line_item_usage_type": ["BoxUsage:m6i.2xlarge", ""],
        "line_item_resource_id": ["i-0abc", None],
        "line_item_usage_start_date": [datetime(2026, 10, 1, 5), datetime(2026, 10, 1)]})
    keys = ["345678901234|Usage|AmazonEC2|BoxUsage:m6i.2xlarge|i-0abc|2026100105",
            "456789012345|Tax|AmazonS3|||2026100100"]
    expected = [base64.b32encode(hashlib.blake2b(k.encode(), digest_size=20).digest())
                .decode().lower() for k in keys]
    assert _line_ids(frame).to_list() == expected


def test_hourly_cuts_intervals_at_hours_and_keeps_every_column() -> None:
    start = datetime(2026, 10, 1, 22, 30)
    frame = pl.DataFrame({
        "name": ["a", "b"], "start": [start, start - timedelta(days=3)],
        "end": [start + timedelta(hours=2), start - timedelta(days=2)],
        "labels": [[{"key": "team", "value": "x"}], []]})
    rows = hourly(frame, datetime(2026, 10, 1), datetime(2026, 10, 2))
    assert rows["name"].to_list() == ["a", "a"]
    assert rows["hour"].to_list() == [datetime(2026, 10, 1, 22), datetime(2026, 10, 1, 23)]
    assert rows["running_seconds"].to_list() == [1800.0, 3600.0]
    assert rows["labels"].to_list() == [[{"key": "team", "value": "x"}]] * 2
    assert rows.columns == [*frame.columns, "hour", "running_seconds"]


def test_usage_by_day_writes_one_loadable_directory_per_day(org_intervals: tuple[Org, Intervals],
                                                            tmp_path: Path) -> None:
    org, frames = org_intervals
    writer = UsageWriter(tmp_path, org, by_day=True)
    for lo in (DAY[0], DAY[1]):
        hi = lo + timedelta(days=1)
        pods = pod_usage(hourly(frames.pods, lo, hi), 7, org.spec.start)
        writer.write_day(hourly(frames.nodes, lo, hi), pods, hourly(frames.volumes, lo, hi),
                         hourly(frames.lbs, lo, hi), lo)
    counts = writer.close()
    days = sorted(p.name for p in (tmp_path / "usage").iterdir())
    assert days == ["day=2026-10-05", "day=2026-10-06"]
    pods = pl.read_parquet(tmp_path / "usage" / "day=2026-10-06" / "k8s_pod_hour.parquet")
    assert pods["hour"].dt.date().unique().to_list() == [DAY[1].date()]
    total = sum(pl.read_parquet(p).height
                for p in (tmp_path / "usage").glob("day=*/k8s_pod_hour.parquet"))
    assert total == counts["k8s_pod_hour"] > 0
    assert (tmp_path / "usage" / "day=2026-10-05" / "k8s_namespace.parquet").exists()
