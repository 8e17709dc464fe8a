"""The object store: S3 through moto (real HTTP) and a local directory laid out like a bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingestion.billing.s3 import LocalStore, S3Store, open_store, parse_s3_uri
from models.errors import InputError


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://bills/cur/report/") == ("bills", "cur/report")
    assert parse_s3_uri("s3://bills") == ("bills", "")
    with pytest.raises(InputError, match="no bucket"):
        parse_s3_uri("s3:///x")


@pytest.mark.integration
def test_s3_store_lists_past_one_page_reads_and_downloads(s3_client: Any, s3_bucket: str,
                                                          tmp_path: Path) -> None:
    for i in range(1005):  # list_objects_v2 answers 1000 keys per page
        s3_client.put_object(Bucket=s3_bucket, Key=f"p/k{i:04d}", Body=b"x" * (i % 3))
    store, prefix = open_store(f"s3://{s3_bucket}/p", s3_client)
    listed = store.list(prefix)
    assert len(listed) == 1005 and listed[2].size == 2
    assert store.read("p/k0002") == b"xx"
    assert store.download("p/k0001", tmp_path / "one").read_bytes() == b"x"
    assert store.resolve("s3://another-bucket/p/k0001") == "p/k0001"
    with pytest.raises(InputError, match=rf"s3://{s3_bucket}/p/missing: object not found"):
        store.read("p/missing")
    with pytest.raises(InputError, match="object not found"):
        store.download("p/missing", tmp_path / "missing")


def test_s3_store_needs_a_client() -> None:
    with pytest.raises(InputError, match="needs an S3 client"):
        open_store("s3://bucket/prefix", None)


def test_local_store_resolves_bucket_keys_below_its_directory(tmp_path: Path) -> None:
    (tmp_path / "report/20231101-20231201").mkdir(parents=True)
    (tmp_path / "report/20231101-20231201/a.csv.gz").write_bytes(b"data")
    store = LocalStore(tmp_path)
    assert [o.key for o in store.list("")] == ["report/20231101-20231201/a.csv.gz"]
    # the manifest names the key from the bucket root; the directory is a sub-prefix
    assert store.resolve("my-prefix/report/20231101-20231201/a.csv.gz") == \
        "report/20231101-20231201/a.csv.gz"
    assert store.resolve("s3://bucket/my-prefix/report/20231101-20231201/a.csv.gz") == \
        "report/20231101-20231201/a.csv.gz"
    with pytest.raises(InputError, match="file not found"):
        store.read("report/nothing")


def test_local_store_of_one_file_and_of_nothing(tmp_path: Path) -> None:
    (tmp_path / "bill.parquet").write_bytes(b"PAR1")
    store, prefix = open_store(str(tmp_path / "bill.parquet"), None)
    assert isinstance(store, LocalStore) and prefix == "bill.parquet"
    assert [o.key for o in store.list(prefix)] == ["bill.parquet"]
    with pytest.raises(InputError, match="no such file"):
        open_store(str(tmp_path / "absent"), None)
    assert not isinstance(store, S3Store)
