"""Deliveries, not files, end to end: `finops ingest focus|azure|gcp-billing` on real layouts
(local folders, and S3 through moto's server) into a real DuckDB file. Totals to the cent
after every call, and the earlier data intact after every refused load."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from finops.warehouse import Warehouse
from tests.support import run_cli
from tests.support.bills import (
    aws_focus_export,
    azure_export_run,
    bucket,
    csv_bytes,
    focus_lines,
    folder,
    write_focus,
)

DATA = Path(__file__).parents[1] / "data"
AMORTIZED = DATA / "azure-toolkit" / "EA_AmortizedCost_Small.csv"


def ingest(db: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code, out, err = run_cli(["--db", str(db), "ingest", *args], capsys)
    return code, out + err


def totals(db: Path, source: str) -> tuple[int, float, float]:
    """Lines, billed and effective cost of ``source``, rounded to the cent."""
    with Warehouse(db) as warehouse:
        row = warehouse.frame("SELECT count(*) AS n, sum(billed_cost) AS b, "
                              "sum(effective_cost) AS e FROM cost_line WHERE x_source = ?",
                              [source]).row(0)
    return row[0], round(row[1] or 0, 2), round(row[2] or 0, 2)


def history(db: Path) -> list[dict[str, Any]]:
    with Warehouse(db) as warehouse:
        frame = warehouse.frame("SELECT * FROM billing_period_history ORDER BY started_at")
    return frame.to_dicts()


def runs(db: Path) -> list[tuple[str, int]]:
    with Warehouse(db) as warehouse:
        return warehouse.frame("SELECT status, rows FROM ingest_runs "
                               "ORDER BY started_at").rows()


# -- loose parts of one bill (the part1.csv / part2.csv) ----------------------------
@pytest.fixture
def parts(tmp_path: Path) -> tuple[Path, Path]:
    one = write_focus(tmp_path / "bills" / "part1.csv", focus_lines(50, 3320, tag="a"))
    two = write_focus(tmp_path / "bills" / "part2.csv", focus_lines(50, 1582, tag="b"))
    return one, two


def test_parts_given_in_one_call_are_one_delivery(tmp_path: Path, parts: tuple[Path, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "w.duckdb"
    code, said = ingest(db, capsys, "focus", *map(str, parts))
    assert code == 0, said
    assert totals(db, "focus") == (100, 49.02, 49.02)
    assert "000123456789 2026-09: new: 0 -> 100 lines, billed 0.00 -> 49.02 USD" in said
    [period] = history(db)
    assert period["action"] == "new" and period["files"] == sorted(str(p) for p in parts)


def test_a_second_part_is_refused_then_appended(tmp_path: Path, parts: tuple[Path, Path],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "w.duckdb"
    one, two = parts
    assert ingest(db, capsys, "focus", str(one))[0] == 0
    code, said = ingest(db, capsys, "focus", str(two))
    assert code == 1
    assert "Error: focus: nothing loaded" in said
    assert "billing account 000123456789, period 2026-09 was loaded before" in said
    assert f"{one} (run focus-" in said and "50 lines, billed 33.20 USD" in said
    assert f"this delivery ({two}): 50 lines, billed 15.82 USD, effective 15.82 USD" in said
    assert "--replace" in said and "--append" in said and "$" not in said
    assert totals(db, "focus") == (50, 33.2, 33.2)  # the earlier data intact
    code, said = ingest(db, capsys, "focus", str(two), "--append")
    assert code == 0, said
    assert totals(db, "focus") == (100, 49.02, 49.02)
    assert "appended: 50 -> 100 lines, billed 33.20 -> 49.02 USD" in said
    assert [r[0] for r in runs(db)] == ["ok", "failed", "ok"]
    appended = history(db)[-1]
    assert appended["action"] == "appended" and appended["lines_before"] == 50
    assert appended["kept_runs"] == [history(db)[0]["run_id"]]


@pytest.mark.slow
def test_the_same_file_again_changes_nothing(tmp_path: Path, parts: tuple[Path, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "w.duckdb"
    one, two = parts
    copy = write_focus(tmp_path / "elsewhere" / "renamed-copy.csv",
                       focus_lines(50, 3320, tag="a"))  # the same bytes under another name
    assert ingest(db, capsys, "focus", str(one))[0] == 0
    for again in ([str(one)], [str(copy)], [str(one), str(one)], [str(one), "--append"]):
        code, said = ingest(db, capsys, "focus", *again)
        assert code == 0, said
        assert "unchanged: 50 -> 50 lines" in said
        assert totals(db, "focus") == (50, 33.2, 33.2)
    assert ingest(db, capsys, "focus", str(two), "--append")[0] == 0
    assert ingest(db, capsys, "focus", str(two))[0] == 0  # a part already appended
    assert ingest(db, capsys, "focus", str(one), str(two))[0] == 0  # the whole bill again
    assert totals(db, "focus") == (100, 49.02, 49.02)
    assert [rows for _, rows in runs(db)] == [50, 0, 0, 0, 0, 50, 0, 0]


def test_a_renamed_restatement_needs_replace(tmp_path: Path, parts: tuple[Path, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "w.duckdb"
    assert ingest(db, capsys, "focus", *map(str, parts))[0] == 0
    restated = write_focus(tmp_path / "bills" / "2026-09-final.csv",
                           focus_lines(98, 4977, tag="final"))
    code, said = ingest(db, capsys, "focus", str(restated))
    assert code == 1
    assert "with --replace the period would hold 98 lines, billed 49.77 USD" in said
    assert "with --append 198 lines, billed 98.79 USD" in said
    assert totals(db, "focus") == (100, 49.02, 49.02)
    code, said = ingest(db, capsys, "focus", str(restated), "--replace")
    assert code == 0, said
    assert totals(db, "focus") == (98, 49.77, 49.77)
    last = history(db)[-1]
    assert last["action"] == "replaced" and last["replaced_runs"] == [history(db)[0]["run_id"]]
    assert (last["lines_before"], last["lines_after"]) == (100, 98)
    assert round(last["effective_before"], 2) == 49.02


def test_replace_and_append_together_is_an_error(tmp_path: Path, parts: tuple[Path, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, said = ingest(tmp_path / "w.duckdb", capsys, "focus", str(parts[0]), "--replace",
                        "--append")
    assert code == 1 and "--replace and --append exclude each other" in said


# -- Azure: a partitioned export and a second run folder restating the month ----------------
def azure_rows(scale: float = 1.0) -> tuple[str, list[list[str]]]:
    """The real EA amortized sample (finops-toolkit), its costs scaled (a restatement)."""
    lines = AMORTIZED.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0]
    rows = list(csv.reader(lines[1:]))
    cost = next(csv.reader([header])).index("Cost")
    for row in rows:
        row[cost] = f"{float(row[cost]) * scale:.10f}"
    return header, rows


def azure_parts(scale: float, split: int) -> tuple[list[bytes], float]:
    """The sample as gzip CSV parts, and its effective total (summed here, not by the reader)."""
    header, rows = azure_rows(scale)
    chunks = [rows[:split], rows[split:]]
    parts = []
    for chunk in chunks:
        text = io.StringIO()
        text.write(header + "\n")
        csv.writer(text, lineterminator="\n").writerows(chunk)
        parts.append(gzip.compress(text.getvalue().encode(), mtime=0))
    cost = next(csv.reader([header])).index("Cost")
    return parts, sum(float(r[cost]) for r in rows)


def test_azure_export_run_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    container = tmp_path / "msexports"
    put = folder(container)
    first, first_total = azure_parts(1.0, 14)
    azure_export_run(put, root="costs", export="finops-amortized", month="2023-09",
                     run_id="4f1c6b2e-0a3d-4b59-9c1e-2d7f8a6b5c40",
                     submitted="2023-09-21T06:12:44.1234567Z", parts=first)
    db = tmp_path / "w.duckdb"
    code, said = ingest(db, capsys, "azure", str(container))
    assert code == 0, said
    assert totals(db, "azure")[0] == 28 and totals(db, "azure")[2] == round(first_total, 2)
    second, second_total = azure_parts(1.1, 9)  # the month restated: a new run folder
    azure_export_run(put, root="costs", export="finops-amortized", month="2023-09",
                     run_id="9b2d7e41-5c6a-4f80-a1b2-c3d4e5f60718",
                     submitted="2023-09-22T06:10:02.7654321Z", parts=second)
    code, said = ingest(db, capsys, "azure", str(container))
    assert code == 0, said
    assert "superseded:" in said and "4f1c6b2e" in said  # the older run is not read
    assert "restated: 28 -> 28 lines" in said
    assert totals(db, "azure")[2] == round(second_total, 2) != round(first_total, 2)
    last = history(db)[-1]
    assert last["action"] == "restated" and last["kind"] == "azure-export"
    assert last["manifest"].endswith("9b2d7e41-5c6a-4f80-a1b2-c3d4e5f60718/manifest.json")
    assert len(last["files"]) == 2
    fresh = tmp_path / "fresh.duckdb"  # both runs at once: only the newest counts
    assert ingest(fresh, capsys, "azure", str(container))[0] == 0
    assert totals(fresh, "azure")[2] == round(second_total, 2)


def test_an_incomplete_azure_run_fails_without_touching_the_month(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    container = tmp_path / "msexports"
    put = folder(container)
    first, first_total = azure_parts(1.0, 14)
    azure_export_run(put, root="costs", export="amortized", month="2023-09", run_id="run-1",
                     submitted="2023-09-21T06:00:00Z", parts=first)
    db = tmp_path / "w.duckdb"
    assert ingest(db, capsys, "azure", str(container))[0] == 0
    second, _ = azure_parts(2.0, 14)
    run = azure_export_run(put, root="costs", export="amortized", month="2023-09",
                           run_id="run-2", submitted="2023-09-22T06:00:00Z", parts=second)
    part = container / run / "part_0_0002.csv.gz"
    part.write_bytes(part.read_bytes()[:100])  # an upload cut short
    code, said = ingest(db, capsys, "azure", str(container))
    assert code == 1
    assert "incomplete delivery:" in said and "part_0_0002.csv.gz with" in said
    part.unlink()  # now missing altogether
    code, said = ingest(db, capsys, "azure", str(container))
    assert code == 1 and "part_0_0002.csv.gz, which is missing" in said
    assert totals(db, "azure")[2] == round(first_total, 2)
    assert [status for status, _ in runs(db)] == ["ok", "failed", "failed"]


# -- AWS Data Exports (FOCUS 1.2) with two executions of one period, through S3 -------------
def aws_chunks(cents: tuple[int, int], tag: str) -> list[bytes]:
    return [csv_bytes(focus_lines(40, c, tag=f"{tag}{i}", account="210987654321"), gz=True)
            for i, c in enumerate(cents)]


@pytest.mark.integration
@pytest.mark.slow
def test_aws_focus_export_two_executions(s3_client: Any, s3_bucket: str, moto_endpoint: str,
                                         tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    put = bucket(s3_client, s3_bucket)
    deliver = partial(aws_focus_export, put, bucket_name=s3_bucket, prefix="exports",
                      export="focus-hourly", period="2026-09")
    deliver(execution="0f3e9a1c-1111-4c2d-9e8f-7a6b5c4d3e2f",
                     chunks=aws_chunks((12345, 6789), "x"), delivered="2026-09-20T06:14:09.000Z")
    db = tmp_path / "w.duckdb"
    uri = f"s3://{s3_bucket}/exports"
    code, said = ingest(db, capsys, "focus", uri, "--endpoint-url", moto_endpoint)
    assert code == 0, said
    assert totals(db, "focus") == (80, 191.34, 191.34)
    deliver(execution="7c2b4d6e-2222-4f1a-8b3c-5d6e7f8091a2",
                     chunks=aws_chunks((13000, 7001), "y"), delivered="2026-09-21T06:02:51.000Z")
    code, said = ingest(db, capsys, "focus", uri, "--endpoint-url", moto_endpoint)
    assert code == 0, said
    assert "restated: 80 -> 80 lines, billed 191.34 -> 200.01 USD" in said
    assert totals(db, "focus") == (80, 200.01, 200.01)  # never both executions summed
    with Warehouse(db) as warehouse:
        files = warehouse.frame("SELECT f.file, f.role, f.sha256 FROM ingest_files f "
                                "JOIN ingest_runs USING (run_id) ORDER BY started_at, file")
    newest = [f for f in files.to_dicts() if "7c2b4d6e" in f["file"]]
    assert [f["role"] for f in newest] == ["data", "data", "manifest"]
    assert all(f["file"].startswith(f"s3://{s3_bucket}/exports/focus-hourly/") for f in newest)
    assert all(len(f["sha256"]) == 64 for f in newest)
    fresh = tmp_path / "fresh.duckdb"
    assert ingest(fresh, capsys, "focus", uri, "--endpoint-url", moto_endpoint)[0] == 0
    assert totals(fresh, "focus") == (80, 200.01, 200.01)


@pytest.mark.integration
@pytest.mark.slow
def test_aws_manifest_listing_a_missing_file_changes_nothing(
        s3_client: Any, s3_bucket: str, moto_endpoint: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    put = bucket(s3_client, s3_bucket)
    deliver = partial(aws_focus_export, put, bucket_name=s3_bucket, prefix="p",
                      export="focus", period="2026-09")
    deliver(execution="e1", chunks=aws_chunks((500, 500), "x"),
                     delivered="2026-09-20T00:00:00.000Z")
    db = tmp_path / "w.duckdb"
    uri = f"s3://{s3_bucket}/p"
    assert ingest(db, capsys, "focus", uri, "--endpoint-url", moto_endpoint)[0] == 0
    deliver(execution="e2", chunks=aws_chunks((900, 900), "y"),
                     delivered="2026-09-21T00:00:00.000Z")
    s3_client.delete_object(Bucket=s3_bucket, Key="p/focus/data/BILLING_PERIOD=2026-09/e2/"
                            "focus-00002.csv.gz")
    code, said = ingest(db, capsys, "focus", uri, "--endpoint-url", moto_endpoint)
    assert code == 1
    assert f"incomplete delivery: s3://{s3_bucket}/p/focus/metadata/BILLING_PERIOD=2026-09/e2/" \
           f"focus-Manifest.json lists s3://{s3_bucket}/p/focus/data/" in said
    assert totals(db, "focus") == (80, 10.0, 10.0)


# -- GCP: shard sets of a BigQuery extract ---------------------------------------------------
def gcp_rows(n: int, cents: int) -> list[dict[str, Any]]:
    return [{"billing_account_id": "01A2B3-C4D5E6-F7A8B9", "cost": (cents // n + (
        1 if i < cents % n else 0)) / 100, "currency": "EUR",
        "usage_start_time": f"2026-09-{1 + i % 28:02d}T00:00:00Z",
        "usage_end_time": f"2026-09-{1 + i % 28:02d}T01:00:00Z",
        "invoice": {"month": "202609"}, "project": {"id": f"p-{i % 3}"},
        "service": {"description": "Compute Engine"}, "credits": []} for i in range(n)]


def write_shards(root: Path, rows: list[dict[str, Any]], shards: int) -> None:
    for i in range(shards):
        chunk = rows[i::shards]
        (root / f"billing-{i:012d}.jsonl").write_text("\n".join(json.dumps(r) for r in chunk))


def test_gcp_shard_set_and_its_re_export(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "gcs" / "billing-export"
    root.mkdir(parents=True)
    write_shards(root, gcp_rows(30, 4567), 3)
    db = tmp_path / "w.duckdb"
    code, said = ingest(db, capsys, "gcp-billing", str(root))
    assert code == 0, said
    assert "shards delivery" in said and "billing-*.jsonl" in said
    assert totals(db, "gcp-billing") == (30, 45.67, 45.67)
    write_shards(root, gcp_rows(31, 4600), 3)  # the extract run again over the same URI
    later = time.time() + 60
    for shard in root.iterdir():
        os.utime(shard, (later, later))
    code, said = ingest(db, capsys, "gcp-billing", str(root))
    assert code == 0, said
    assert "restated: 30 -> 31 lines, billed 45.67 -> 46.00 EUR" in said
    assert totals(db, "gcp-billing") == (31, 46.0, 46.0)
    (root / f"billing-{5:012d}.jsonl").write_text(json.dumps(gcp_rows(1, 100)[0]))
    code, said = ingest(db, capsys, "gcp-billing", str(root))
    assert code == 1 and "incomplete shard set: shard 000000000003 is missing" in said
    assert totals(db, "gcp-billing") == (31, 46.0, 46.0)
