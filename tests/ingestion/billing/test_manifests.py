"""Recognising deliveries in a tree (``ingestion.billing.deliveries`` / ``manifests``): AWS
Data Exports executions, Azure export runs, shard sets, loose files; the newest delivery of
each export and period; incomplete deliveries caught before anything is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion.billing.deliveries import find_deliveries, stage
from ingestion.billing.manifests import iso_utc
from models.errors import InputError
from tests.support.bills import (
    aws_focus_export,
    azure_export_run,
    csv_bytes,
    focus_lines,
    folder,
    write_focus,
)

FOCUS = (".csv", ".csv.gz", ".parquet")
JSONL = (".jsonl", ".jsonl.gz")


def chunk(tag: str, cents: int = 1000) -> bytes:
    return csv_bytes(focus_lines(4, cents, tag=tag), gz=True)


def test_aws_export_newest_execution_per_period(tmp_path: Path) -> None:
    put = folder(tmp_path / "bucket")
    common = {"bucket_name": "bills", "prefix": "exports", "export": "focus"}
    aws_focus_export(put, **common, period="2026-09", execution="old",
                     chunks=[chunk("a")], delivered="2026-09-20T06:00:00.000Z")
    aws_focus_export(put, **common, period="2026-09", execution="new",
                     chunks=[chunk("b"), chunk("c")], delivered="2026-09-21T06:00:00.000Z")
    aws_focus_export(put, **common, period="2026-08", execution="aug",
                     chunks=[chunk("d")], delivered="2026-09-02T06:00:00.000Z")
    found = find_deliveries([str(tmp_path / "bucket")], FOCUS, "FOCUS")
    assert [(d.period, d.kind) for d in found.deliveries] == [
        ("2026-08", "aws-data-export"), ("2026-09", "aws-data-export")]
    september = found.deliveries[1]
    assert [Path(p.key).parent.name for p in september.parts] == ["new", "new"]
    assert september.export is not None and september.export.startswith("arn:aws:bcm-data")
    assert september.version == "2026-09-21T06:00:00.000000Z"
    assert september.manifest and september.manifest.endswith("new/focus-Manifest.json")
    assert len(found.notes) == 1 and "superseded" in found.notes[0] and "/old/" in found.notes[0]


def test_azure_newest_run_per_export_and_month(tmp_path: Path) -> None:
    put = folder(tmp_path)
    for run, submitted in (("r1", "2023-09-21T06:12:44.1234567Z"),
                           ("r2", "2023-09-22T06:12:44.1234567Z")):
        azure_export_run(put, root="costs", export="daily", month="2023-09", run_id=run,
                         submitted=submitted, parts=[chunk(run), chunk(run + "x")])
    azure_export_run(put, root="costs", export="other", month="2023-09", run_id="o1",
                     submitted="2023-09-01T00:00:00Z", parts=[chunk("o")])
    found = find_deliveries([str(tmp_path)], FOCUS, "Azure export")
    runs = {d.export: d for d in found.deliveries}
    assert len(runs) == 2
    daily = next(d for e, d in runs.items() if e and e.endswith("/exports/daily"))
    assert daily.period == "2023-09" and daily.version == "2023-09-22T06:12:44.123456Z"
    assert [p.key.split("/")[-2:] for p in daily.parts] == [["r2", "part_0_0001.csv.gz"],
                                                              ["r2", "part_0_0002.csv.gz"]]
    assert daily.parts[0].size == len(chunk("r2"))
    assert not any(d.kind == "files" for d in found.deliveries)  # r1's parts are not loose


def test_an_azure_run_folder_given_itself(tmp_path: Path) -> None:
    run = azure_export_run(folder(tmp_path), root="costs", export="daily", month="2023-09",
                           run_id="r1", submitted="2023-09-21T06:00:00Z",
                           parts=[chunk("a"), chunk("b")])
    [delivery] = find_deliveries([str(tmp_path / run)], FOCUS, "Azure").deliveries
    assert [p.key for p in delivery.parts] == ["part_0_0001.csv.gz", "part_0_0002.csv.gz"]
    files, _ = stage(delivery, tmp_path / "work", print)
    assert [f.path for f in files] == [tmp_path / run / "part_0_0001.csv.gz",
                                       tmp_path / run / "part_0_0002.csv.gz"]


def test_shard_sets_and_loose_files(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / "exp" / "2026-09").mkdir(parents=True, exist_ok=True)
        (tmp_path / "exp" / "2026-09" / f"billing-{i:012d}.jsonl").write_text("{}")
    (tmp_path / "exp" / "000000000000.jsonl").write_text("{}")  # a bare `*.jsonl` extract
    (tmp_path / "exp" / "manual.jsonl").write_text("{}")
    (tmp_path / "exp" / "notes.txt").write_text("not a bill")
    extra = tmp_path / "given.jsonl"
    extra.write_text("{}")
    found = find_deliveries([str(tmp_path / "exp"), str(extra)], JSONL, "GCP")
    kinds = [(d.kind, d.label.rsplit("/", 2)[-2:], len(d.parts)) for d in found.deliveries]
    assert kinds == [("shards", ["exp", "*.jsonl"], 1),
                     ("shards", ["2026-09", "billing-*.jsonl"], 3),
                     ("files", ["2 files"], 2)]
    loose = found.deliveries[-1]
    assert loose.export is None and {Path(p.uri).name for p in loose.parts} == {
        "manual.jsonl", "given.jsonl"}


def test_a_gap_in_a_shard_set_is_incomplete(tmp_path: Path) -> None:
    for i in (0, 1, 3):
        (tmp_path / f"b-{i:012d}.jsonl").write_text("{}")
    with pytest.raises(InputError, match=r"b-\*\.jsonl: incomplete shard set: shard "
                       r"000000000002 is missing"):
        find_deliveries([str(tmp_path)], JSONL, "GCP")


def test_data_no_manifest_lists_is_skipped_and_said(tmp_path: Path) -> None:
    put = folder(tmp_path)
    azure_export_run(put, root="costs", export="daily", month="2023-09", run_id="r1",
                     submitted="2023-09-21T06:00:00Z", parts=[chunk("a")])
    put("costs/daily/20230901-20230930/r2/part_0_0001.csv.gz", chunk("b"))  # no manifest yet
    found = find_deliveries([str(tmp_path)], FOCUS, "Azure export")
    assert [d.kind for d in found.deliveries] == ["azure-export"]
    assert "skipped 1 data file(s) no manifest lists" in found.notes[0]
    assert "r2/part_0_0001.csv.gz" in found.notes[0]


def test_an_empty_folder_names_what_it_looked_for(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(InputError, match=r"no FOCUS files \(\.csv, \.csv\.gz, \.parquet\)"):
        find_deliveries([str(tmp_path)], FOCUS, "FOCUS")


def test_incomplete_deliveries_fail_at_staging(tmp_path: Path) -> None:
    put = folder(tmp_path / "c")
    run = azure_export_run(put, root="costs", export="daily", month="2023-09", run_id="r1",
                           submitted="2023-09-21T06:00:00Z", parts=[chunk("a"), chunk("b")])
    part = tmp_path / "c" / run / "part_0_0002.csv.gz"
    part.write_bytes(part.read_bytes() + b"\0")
    [delivery] = find_deliveries([str(tmp_path / "c")], FOCUS, "Azure").deliveries
    with pytest.raises(InputError, match=r"incomplete delivery: .*manifest\.json lists .*"
                       r"part_0_0002\.csv\.gz with \d+ bytes, the file has \d+"):
        stage(delivery, tmp_path / "work", print)
    part.unlink()
    with pytest.raises(InputError, match=r"part_0_0002\.csv\.gz, which is missing"):
        stage(delivery, tmp_path / "work", print)


def test_a_bad_manifest_is_named(tmp_path: Path) -> None:
    target = tmp_path / "x" / "metadata" / "BILLING_PERIOD=2026-09" / "x-Manifest.json"
    target.parent.mkdir(parents=True)
    target.write_text("{not json")
    with pytest.raises(InputError, match=r"x-Manifest\.json: manifest is not valid JSON"):
        find_deliveries([str(tmp_path)], FOCUS, "FOCUS")
    target.write_text(json.dumps({"dataFiles": []}))
    with pytest.raises(InputError, match="manifest names no data files"):
        find_deliveries([str(tmp_path)], FOCUS, "FOCUS")


def test_staging_drops_byte_identical_files(tmp_path: Path) -> None:
    rows = focus_lines(3, 300, tag="a")
    one = write_focus(tmp_path / "a.csv", rows)
    two = write_focus(tmp_path / "b.csv", rows)
    [delivery] = find_deliveries([str(one), str(two)], FOCUS, "FOCUS").deliveries
    said: list[str] = []
    files, _ = stage(delivery, tmp_path / "work", said.append)
    assert [f.path for f in files] == [one] and said == [
        f"skipping {two}: same content as {one}"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-02-03T18:33:03.1032074Z", "2024-02-03T18:33:03.103207Z"),
    ("2024-01-31T00:00:00", "2024-01-31T00:00:00.000000Z"),
    ("2026-11-02T07:14:09.000+01:00", "2026-11-02T06:14:09.000000Z"),
    ("not a time", None),
    (None, None),
])
def test_versions_are_utc_iso(text: str | None, expected: str | None) -> None:
    assert iso_utc(text) == expected
