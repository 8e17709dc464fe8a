"""FOCUS files -> cost_line: every sample to the cent, column variants, bad input, CLI."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from finops.pipeline.store import ingest, store
from finops.warehouse import Warehouse
from ingestion.billing.columns import norm
from ingestion.billing.cost_lines import cost_lines_load
from ingestion.billing.focus import Defaults, read_focus
from models.errors import InputError
from models.loads import file_checksum
from tests.support import exit_code

DATA = Path(__file__).parents[1] / "data"
SAMPLE = DATA / "focus-1.0" / "focus_sample.csv"
SPEC = sorted((DATA / "focus-1.2-spec").glob("*.csv"))
SPEC_DEFAULTS = Defaults("spec-example", "USD", "FOCUS spec")
NO_DEFAULTS = Defaults()
COSTS = {"BilledCost": "billed_cost", "EffectiveCost": "effective_cost",
         "ListCost": "list_cost", "ContractedCost": "contracted_cost"}


def source_sums(path: Path) -> dict[str, float]:
    """Sum each cost column with the csv module (independent of the reader)."""
    sums: dict[str, float] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            for column in COSTS:
                value = row.get(column)
                if value not in (None, "", "NULL", "null"):
                    sums[column] = sums.get(column, 0.0) + float(value)
    return sums


def table_sums(warehouse: Warehouse) -> dict[str, float]:
    frame = warehouse.frame(f"SELECT {', '.join(f'sum({c}) AS {c}' for c in COSTS.values())} "
                            "FROM cost_line")
    return {c: frame[c][0] or 0.0 for c in COSTS.values()}


def load(warehouse: Warehouse, *paths: Path, defaults: Defaults = NO_DEFAULTS) -> None:
    frames = [read_focus(p, defaults) for p in paths]
    store(warehouse, cost_lines_load("focus", frames, list(paths)))


def assert_cents(source: dict[str, float], loaded: dict[str, float]) -> None:
    for column, total in source.items():
        assert round(loaded[COSTS[column]], 2) == round(total, 2), column
        assert abs(loaded[COSTS[column]] - total) < 1e-6, column


def test_focus_10_sample_sums_to_the_cent(warehouse: Warehouse) -> None:
    load(warehouse, SAMPLE)
    source = source_sums(SAMPLE)
    assert set(source) == set(COSTS)
    assert_cents(source, table_sums(warehouse))
    assert warehouse.frame("SELECT count(*) AS n FROM cost_line")["n"][0] == 1000


def test_ids_stay_strings_and_tags_become_maps(warehouse: Warehouse) -> None:
    load(warehouse, SAMPLE)
    with SAMPLE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = {r["SubAccountId"] for r in rows if r["SubAccountId"] != "NULL"}
    loaded = warehouse.frame("SELECT DISTINCT sub_account_id FROM cost_line "
                             "WHERE sub_account_id IS NOT NULL")
    assert set(loaded["sub_account_id"]) == ids
    tagged = next(r for r in rows if r["Tags"] not in ("NULL", ""))
    expected = {k: v if isinstance(v, str) else json.dumps(v)
                for k, v in json.loads(tagged["Tags"]).items()}
    got = warehouse.frame("SELECT map_keys(tags) AS k, map_values(tags) AS v FROM cost_line "
                          "WHERE charge_description = ? AND resource_id = ? LIMIT 1",
                          [tagged["ChargeDescription"], tagged["ResourceId"]])
    assert dict(zip(got["k"][0], got["v"][0], strict=True)) == expected


@pytest.mark.parametrize("path", SPEC, ids=lambda p: p.stem)
def test_spec_examples(path: Path, warehouse: Warehouse) -> None:
    if "purchase_scenario_2" in path.name or "purchase_scenario_3" in path.name:
        # the spec data has an hour "30" (2023-02-01T30:00:00Z): a clear error, not a guess
        with pytest.raises(InputError, match=r"row \d+, column 'ChargePeriodEnd'.*T30:00"):
            read_focus(path, SPEC_DEFAULTS)
        return
    load(warehouse, path, defaults=SPEC_DEFAULTS)
    assert_cents(source_sums(path), table_sums(warehouse))


def test_spec_example_without_defaults_names_missing_columns() -> None:
    with pytest.raises(InputError, match="missing required column.*BillingAccountId"):
        read_focus(SPEC[0])


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


ROW = {"BillingAccountId": "000123456789", "BillingCurrency": "USD",
       "BillingPeriodStart": "2025-06-01T00:00:00Z", "BillingPeriodEnd": "2025-07-01T00:00:00Z",
       "ChargePeriodStart": "2025-06-02T00:00:00Z", "ChargePeriodEnd": "2025-06-02T01:00:00Z",
       "ChargeCategory": "Usage", "BilledCost": "1.25", "EffectiveCost": "1.00",
       "ResourceId": "i-0abc", "Tags": '{"team": "web", "count": 3, "on": true}'}


def focus_file(path: Path, rename: dict[str, str] | None = None, **extra: str) -> Path:
    row = ROW | extra
    rename = rename or {}
    return write_csv(path, [rename.get(k, k) for k in row], [list(row.values())])


def test_column_variants_across_versions(tmp_path: Path) -> None:
    preview = focus_file(tmp_path / "preview.csv",
                         {"EffectiveCost": "AmortizedCost", "ChargeCategory": "ChargeType",
                          "BillingCurrency": "BilledCurrency"}, Provider="AWS",
                         UsageQuantity="2")
    v13 = focus_file(tmp_path / "v13.csv", ServiceProviderName="AWS", ProviderName="AWS",
                     HostProviderName="AWS", x_Cluster="prod", x_Whatever="dropped")
    snake = focus_file(tmp_path / "snake.csv", {k: norm(k) for k in ROW})
    for path in (preview, v13, snake):
        frame = read_focus(path)
        assert frame["billing_account_id"][0] == "000123456789"  # leading zeros kept
        assert frame["effective_cost"][0] == 1.0
        assert frame["charge_category"][0] == "Usage"
    assert read_focus(preview)["consumed_quantity"][0] == 2.0
    assert read_focus(v13)["x_cluster"][0] == "prod"
    assert "x_Whatever" not in read_focus(v13).columns
    tags = read_focus(v13)["tags"][0].to_list()
    assert {t["key"]: t["value"] for t in tags} == {"team": "web", "count": "3", "on": "true"}


def test_parquet_and_csv_gz_match_csv(tmp_path: Path, warehouse: Warehouse) -> None:
    gz = tmp_path / "focus.csv.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    table = pacsv.read_csv(SAMPLE, convert_options=pacsv.ConvertOptions(
        null_values=["NULL", ""], column_types={"BillingAccountId": pa.string(),
                                                "SubAccountId": pa.string()}))
    parquet = tmp_path / "focus.parquet"
    pq.write_table(table, parquet)
    source = source_sums(SAMPLE)
    for path in (gz, parquet):
        frame = read_focus(path)
        assert frame.height == 1000
        assert round(frame["billed_cost"].sum(), 6) == round(source["BilledCost"], 6)
        assert frame["billing_account_id"].dtype == pl.String


def test_bom_is_handled(tmp_path: Path) -> None:
    path = focus_file(tmp_path / "bom.csv")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_focus(path)["billing_account_id"][0] == "000123456789"


@pytest.mark.parametrize(("content", "message"), [
    (b"", "file is empty"),
    (b"BilledCost,EffectiveCost\n", "no data rows"),
])
def test_empty_inputs(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_focus(path)


def test_missing_and_wrong_typed_columns(tmp_path: Path) -> None:
    row = dict(ROW)
    del row["EffectiveCost"]
    missing = write_csv(tmp_path / "m.csv", list(row), [list(row.values())])
    with pytest.raises(InputError, match=r"m\.csv: missing required column\(s\): EffectiveCost"):
        read_focus(missing)
    wrong = focus_file(tmp_path / "w.csv", BilledCost="12,5")
    with pytest.raises(InputError, match=r"w\.csv: row 1, column 'BilledCost': '12,5'"):
        read_focus(wrong)
    bad_tags = focus_file(tmp_path / "t.csv", Tags='{"team": ')
    with pytest.raises(InputError, match=r"t\.csv: row 1, column 'Tags'"):
        read_focus(bad_tags)


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(SAMPLE.read_bytes())[:5000])
    with pytest.raises(InputError, match=r"cut\.csv\.gz: truncated or corrupt gzip"):
        read_focus(path)


def test_currency_mix_in_one_account_and_period(tmp_path: Path, warehouse: Warehouse) -> None:
    usd = read_focus(focus_file(tmp_path / "usd.csv"))
    eur = read_focus(focus_file(tmp_path / "eur.csv", BillingCurrency="EUR"))
    with pytest.raises(InputError, match="000123456789 period 2025-06 mixes currencies"):
        ingest(warehouse, "focus", [], lambda _work: [cost_lines_load("focus", [usd, eur], [])])
    runs = warehouse.frame("SELECT status FROM ingest_runs")
    assert runs["status"].to_list() == ["failed"]


def run_cli(db: Path, *args: str) -> int:
    return exit_code(["--db", str(db), *args])


def test_cli_idempotent_duplicates_and_failed_load_keeps_data(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    assert run_cli(db, "ingest", "focus", str(SAMPLE), str(SAMPLE)) == 0  # same file twice
    assert run_cli(db, "ingest", "focus", str(SAMPLE)) == 0  # the same file: no change
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE.read_text().replace("0.00000080000", "oops", 1))
    assert run_cli(db, "ingest", "focus", str(bad)) == 1
    with Warehouse(db) as warehouse:
        assert warehouse.frame("SELECT count(*) AS n FROM cost_line")["n"][0] == 1000
        assert_cents(source_sums(SAMPLE), table_sums(warehouse))
        runs = warehouse.frame("SELECT status, rows, checksum, window_start FROM ingest_runs "
                               "ORDER BY started_at")
    assert runs["status"].to_list() == ["ok", "ok", "failed"]
    assert runs["rows"].to_list()[:2] == [1000, 0]
    assert runs["checksum"][0] == file_checksum([SAMPLE])
    assert str(runs["window_start"][0]).startswith("2024-09-01")
    assert (tmp_path / "w.published.duckdb").exists()


def test_cli_error_names_file_and_exits_1(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert run_cli(tmp_path / "w.duckdb", "ingest", "focus", str(empty)) == 1
    assert f"Error: {empty}: file is empty" in capsys.readouterr().err



@pytest.mark.integration
def test_focus_files_load_from_s3(s3_client: Any, s3_bucket: str, moto_endpoint: str,
                                  tmp_path: Path) -> None:
    """`finops ingest focus s3://…` reads through boto3 (moto server) to the same totals."""
    s3_client.upload_file(str(SAMPLE), s3_bucket, "exports/focus/2024-09/focus_sample.csv")
    s3_client.put_object(Bucket=s3_bucket, Key="exports/focus/notes.txt", Body=b"not a bill")
    db = tmp_path / "s3.duckdb"
    assert run_cli(db, "ingest", "focus", f"s3://{s3_bucket}/exports/focus",
                   "--endpoint-url", moto_endpoint) == 0
    with Warehouse(db) as warehouse:
        assert_cents(source_sums(SAMPLE), table_sums(warehouse))
        files = warehouse.frame("SELECT DISTINCT x_source_file FROM cost_line")
    assert files["x_source_file"][0].endswith(f"{s3_bucket}/exports/focus/2024-09/"
                                              "focus_sample.csv")


@pytest.mark.integration
def test_s3_prefix_without_focus_files_is_an_error(s3_client: Any, s3_bucket: str,
                                                   moto_endpoint: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    s3_client.put_object(Bucket=s3_bucket, Key="empty/readme.txt", Body=b"x")
    assert run_cli(tmp_path / "w.duckdb", "ingest", "focus", f"s3://{s3_bucket}/empty",
                   "--endpoint-url", moto_endpoint) == 1
    assert f"Error: s3://{s3_bucket}/empty: no FOCUS files" in capsys.readouterr().err
