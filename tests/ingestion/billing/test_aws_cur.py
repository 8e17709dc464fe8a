"""AWS CUR (legacy and 2.0) through a real moto S3 server, checked against the source files.

Source sums are computed here independently (csv/gzip or pyarrow, and the effective-cost
rule table re-stated in plain Python): billed_cost = sum(line_item_unblended_cost),
effective_cost = sum(rule(row)), list_cost = sum(pricing_public_on_demand_cost).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from finops.pipeline.store import ingest as ingest_loads
from finops.warehouse import Warehouse
from ingestion.billing import aws_cur
from ingestion.billing.s3 import S3Store
from models.errors import InputError

DATA = Path(__file__).parents[1] / "data" / "aws"
KOKU = DATA / "legacy-koku"
FOCUS_CSV = DATA / "legacy-focus-converters" / "sample-anonymous-aws-export-dataset.csv"
CUR2 = DATA / "cur2"
CUR2_DATA = "exports/finops-cur2/data/BILLING_PERIOD=2026-10"
CUR2_META = "exports/finops-cur2/metadata/BILLING_PERIOD=2026-10"



def upload_tree(client: Any, bucket: str, root: Path, prefix: str = "") -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix != ".py":
            key = f"{prefix}{path.relative_to(root).as_posix()}"
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def put_legacy(client: Any, bucket: str, body: bytes | None, *, assembly: str = "asm-1",
               report: str = "rep", name: str = "rep-1.csv.gz",
               keys: list[str] | None = None) -> None:
    """A legacy CUR delivery: period-level manifest + assembly folder with one chunk."""
    folder = f"cur/{report}/20231101-20231201"
    key = f"{folder}/{assembly}/{name}"
    if body is not None:
        client.put_object(Bucket=bucket, Key=key, Body=body)
    manifest = {"assemblyId": assembly, "reportName": report, "compression": "GZIP",
                "billingPeriod": {"start": "20231101T000000.000Z", "end": "20231201T000000.000Z"},
                "reportKeys": keys if keys is not None else [key]}
    for where in (f"{folder}/{report}-Manifest.json",
                  f"{folder}/{assembly}/{report}-Manifest.json"):
        client.put_object(Bucket=bucket, Key=where, Body=json.dumps(manifest).encode())


def ingest(client: Any, bucket: str, warehouse: Warehouse, prefix: str = "") -> list[Any]:
    return load_store(S3Store(client, bucket), prefix, warehouse)


def ingest_cur2(client: Any, bucket: str, warehouse: Warehouse) -> list[Any]:
    """The CUR 2.0 sample export, uploaded to the bucket and ingested."""
    upload_tree(client, bucket, CUR2)
    return ingest(client, bucket, warehouse)


def load_store(store: Any, prefix: str, warehouse: Warehouse) -> list[Any]:
    """Every delivery below ``prefix`` into the warehouse, as ``finops ingest aws-cur``."""
    return ingest_loads(warehouse, aws_cur.SOURCE, [store.uri(prefix)],
                        lambda work: aws_cur.delivery_loads(store, prefix, work))


def sums(warehouse: Warehouse, where: str = "true") -> dict[str, float]:
    row = warehouse.frame(
        f"SELECT count(*), sum(billed_cost), sum(effective_cost), sum(list_cost) "
        f"FROM cost_line WHERE {where}").rows()[0]
    assert row is not None
    return {"rows": row[0], "billed": round(row[1] or 0.0, 9),
            "effective": round(row[2] or 0.0, 9), "list": round(row[3] or 0.0, 9)}


def num(value: Any) -> float:
    return float(value) if value not in (None, "") else 0.0


def effective(row: dict[str, Any]) -> float:
    """The rule table of ingestion.billing.aws_cur, written out independently."""
    kind, cost = row["line_item_line_item_type"], num(row["line_item_unblended_cost"])
    rules = {
        "DiscountedUsage": lambda: num(row.get("reservation_effective_cost")),
        "SavingsPlanCoveredUsage": lambda: num(row.get("savings_plan_savings_plan_effective_cost")),
        "SavingsPlanNegation": lambda: 0.0,
        "SavingsPlanUpfrontFee": lambda: 0.0,
        "SavingsPlanRecurringFee": lambda: num(row.get("savings_plan_total_commitment_to_date"))
        - num(row.get("savings_plan_used_commitment")),
        "RIFee": lambda: num(row.get("reservation_unused_amortized_upfront_fee_for_billing_period"))
        + num(row.get("reservation_unused_recurring_fee")),
        "Fee": lambda: 0.0 if row.get("reservation_reservation_a_r_n") else cost,
    }
    return rules.get(kind, lambda: cost)()


def legacy_rows(text: str) -> list[dict[str, Any]]:
    """Rows keyed by CUR 2.0 names (only the columns the rules read)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    wanted = {i: aws_cur.q.canonical(name) for i, name in enumerate(header)
              if "Cost" in name or "/LineItemType" in name or "Commitment" in name
              or "/ReservationARN" in name or "UnusedRecurringFee" in name}
    return [{key: row[i] for i, key in wanted.items()} for row in reader]


def assert_cents(actual: float, expected: float) -> None:
    assert round(actual, 2) == round(expected, 2), (actual, expected)
    assert abs(actual - expected) < 1e-6


# -- every AWS sample --------------------------------------------------------------------------
@pytest.mark.integration
def test_koku_legacy_layout_loads_once_with_source_sums(s3_client: Any, s3_bucket: str,
                                                        warehouse: Warehouse) -> None:
    upload_tree(s3_client, s3_bucket, KOKU)
    runs = ingest(s3_client, s3_bucket, warehouse)
    chunk = next(KOKU.rglob("*.csv.gz"))
    rows = legacy_rows(gzip.decompress(chunk.read_bytes()).decode())
    got = sums(warehouse)
    # two manifests (period level + assembly copy) name one delivery: loaded once
    assert [r.rows for r in runs] == [len(rows)] == [got["rows"]] == [6190]
    assert_cents(got["billed"], sum(num(r["line_item_unblended_cost"]) for r in rows))
    assert_cents(got["effective"], sum(effective(r) for r in rows))
    assert_cents(got["list"], sum(num(r["pricing_public_on_demand_cost"]) for r in rows))
    first = warehouse.frame(
        "SELECT billing_account_id, resource_id, billing_period_start::VARCHAR, x_source_file "
        "FROM cost_line WHERE sub_account_id = '4664625010408' LIMIT 1").rows()[0]
    assert first is not None and first[0] == "4090136019287" and first[1].startswith("i-")
    assert first[2] == "2018-08-01 00:00:00" and first[3].startswith(f"s3://{s3_bucket}/my-prefix")


@pytest.mark.integration
def test_focus_converters_legacy_csv_via_manifest(s3_client: Any, s3_bucket: str,
                                                  warehouse: Warehouse) -> None:
    text = FOCUS_CSV.read_text()
    put_legacy(s3_client, s3_bucket, gzip.compress(text.encode()))
    ingest(s3_client, s3_bucket, warehouse)
    rows, got = legacy_rows(text), sums(warehouse)
    assert got["rows"] == len(rows) == 1281
    assert_cents(got["billed"], sum(num(r["line_item_unblended_cost"]) for r in rows))
    assert_cents(got["effective"], sum(effective(r) for r in rows))
    assert_cents(got["list"], sum(num(r["pricing_public_on_demand_cost"]) for r in rows))
    tax = sums(warehouse, "charge_category = 'Tax'")
    assert tax["rows"] == 12
    assert warehouse.frame(
        "SELECT DISTINCT billing_account_id FROM cost_line").rows() == [("123412340534",)]


def cur2_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted((CUR2 / CUR2_DATA).glob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


@pytest.mark.integration
def test_cur2_parquet_sums_commitments_and_split(s3_client: Any, s3_bucket: str,
                                                  warehouse: Warehouse) -> None:
    ingest_cur2(s3_client, s3_bucket, warehouse)
    rows, got = cur2_rows(), sums(warehouse)
    assert_cents(got["billed"], sum(num(r["line_item_unblended_cost"]) for r in rows))
    pods = [r for r in rows if r["line_item_operation"] == "EKSPod-EC2"]
    assert_cents(got["effective"], sum(effective(r) for r in rows if r not in pods))
    assert got["rows"] == len(rows) + 2  # + one Unused row per RIFee / SP recurring fee
    unused = warehouse.frame("SELECT x_line_item_type, resource_id, effective_cost, billed_cost "
                             "FROM cost_line WHERE commitment_discount_status = 'Unused' "
                             "ORDER BY 1").rows()
    assert [(t, round(e, 2), b) for t, _, e, b in unused] == [
        ("RIFee", 5.0, 0.0), ("SavingsPlanRecurringFee", 0.05, 0.0)]
    assert unused[0][1].startswith("arn:aws:ec2") and unused[1][1].startswith("arn:aws:savings")


@pytest.mark.integration
def test_cur2_eks_split_rows_replace_the_instance_share(s3_client: Any, s3_bucket: str,
                                                        warehouse: Warehouse) -> None:
    ingest_cur2(s3_client, s3_bucket, warehouse)
    pods = warehouse.frame(
        "SELECT x_cluster, x_namespace, x_pod, x_split_parent_resource_id, effective_cost, "
        "billed_cost FROM cost_line WHERE x_pod IS NOT NULL ORDER BY x_pod").rows()
    assert [(c, n, p, par, round(e, 4), round(b, 4)) for c, n, p, par, e, b in pods] == [
        ("prod-eks", "payments", "api-1", "i-0aaa", 0.12, 0.12),
        ("prod-eks", "search", "idx-1", "i-0aaa", 0.06, 0.06)]
    instance = sums(warehouse, "resource_id = 'i-0aaa'")
    assert round(instance["effective"], 4) == round(0.192 - 0.18, 4)
    together = sums(warehouse, "resource_id = 'i-0aaa' OR x_split_parent_resource_id = 'i-0aaa'")
    assert_cents(together["effective"], 0.192)  # the instance's cost, not counted twice


@pytest.mark.integration
def test_cur2_tags_accounts_and_categories(s3_client: Any, s3_bucket: str,
                                           warehouse: Warehouse) -> None:
    ingest_cur2(s3_client, s3_bucket, warehouse)
    row = warehouse.frame(
        "SELECT billing_account_id, sub_account_id, tags['user:team'], tags['user:env'], "
        "service_category, region_id FROM cost_line WHERE resource_id = 'finops-bucket'"
    ).rows()[0]
    assert row == ("012345678901", "000111222333", "search", "prod", "Storage", "us-east-1")
    cats = dict(warehouse.frame(
        "SELECT x_line_item_type || coalesce('/' || commitment_discount_status, ''), "
        "charge_category || coalesce('/' || charge_class, '') FROM cost_line").rows())
    assert cats["Refund"] == "Credit/Correction" and cats["Tax"] == "Tax"
    assert cats["SavingsPlanCoveredUsage/Used"] == "Usage" and cats["RIFee"] == "Purchase"
    assert cats["RIFee/Unused"] == "Usage" and cats["Credit"] == "Credit"


# -- restatement -------------------------------------------------------------------------------
@pytest.mark.integration
def test_newest_cur2_execution_replaces_the_month(s3_client: Any, s3_bucket: str,
                                                  warehouse: Warehouse) -> None:
    ingest_cur2(s3_client, s3_bucket, warehouse)
    first = sums(warehouse)
    # S3 records LastModified to the second; a real re-delivery comes hours later.
    time.sleep(1.1)
    body = (CUR2 / CUR2_DATA / "finops-cur2-00001.snappy.parquet").read_bytes()
    s3_client.put_object(Bucket=s3_bucket, Key=f"{CUR2_DATA}/exec-2/part-1.snappy.parquet",
                         Body=body)
    s3_client.put_object(Bucket=s3_bucket, Key=f"{CUR2_META}/exec-2/finops-cur2-Manifest.json",
                         Body=b"{}")  # no dataFiles: every file of the execution folder
    ingest(s3_client, s3_bucket, warehouse)
    second = sums(warehouse)
    part1 = pq.read_table(io.BytesIO(body)).to_pylist()
    assert second["rows"] == len(part1) + 1 < first["rows"]  # + SP unused row
    assert_cents(second["billed"], sum(num(r["line_item_unblended_cost"]) for r in part1))


@pytest.mark.integration
def test_same_delivery_twice_is_one_copy(s3_client: Any, s3_bucket: str,
                                         warehouse: Warehouse) -> None:
    ingest_cur2(s3_client, s3_bucket, warehouse)
    once = sums(warehouse)
    ingest(s3_client, s3_bucket, warehouse)
    assert sums(warehouse) == once


@pytest.mark.integration
def test_duplicate_chunk_in_one_delivery_is_read_once(s3_client: Any, s3_bucket: str,
                                                      warehouse: Warehouse) -> None:
    body = gzip.compress(FOCUS_CSV.read_bytes())
    folder = "cur/rep/20231101-20231201/asm-1"
    s3_client.put_object(Bucket=s3_bucket, Key=f"{folder}/rep-2.csv.gz", Body=body)
    put_legacy(s3_client, s3_bucket, body, keys=[f"{folder}/rep-1.csv.gz",
                                                  f"{folder}/rep-2.csv.gz",
                                                  f"{folder}/rep-1.csv.gz"])
    ingest(s3_client, s3_bucket, warehouse)
    assert sums(warehouse)["rows"] == 1281


# -- bad input: clear error naming the file, previous data intact ----------------------------
def small_csv(edit: Any = None, rows: int = 5) -> str:
    reader = list(csv.reader(io.StringIO(FOCUS_CSV.read_text())))
    header, body = reader[0], [r for r in reader[1:] if r[10] == "Usage"][:rows]
    if edit:
        header, body = edit(header, body)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    return out.getvalue()


def drop_cost(header: list[str], body: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    i = header.index("lineItem/UnblendedCost")
    return header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in body]


def bad_cost(header: list[str], body: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    body[2][header.index("lineItem/UnblendedCost")] = "12,5 USD"
    return header, body


def euro(header: list[str], body: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    for row in body:
        row[header.index("lineItem/CurrencyCode")] = "EUR"
    return header, body


BAD = {
    "missing-column": (gzip.compress(small_csv(drop_cost).encode()),
                       ["rep-1.csv.gz", "line_item_unblended_cost"]),
    "wrong-type": (gzip.compress(small_csv(bad_cost).encode()),
                   ["rep-1.csv.gz", "row 3", "lineItem/UnblendedCost", "12,5 USD"]),
    "empty-file": (b"", ["rep-1.csv.gz", "empty"]),
    "header-only": (gzip.compress(small_csv(rows=0).encode()), ["rep-1.csv.gz", "empty"]),
    "truncated-gzip": (gzip.compress(small_csv().encode())[:-40], ["rep-1.csv.gz", "gzip"]),
}


@pytest.mark.integration
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_delivery_names_the_file_and_keeps_the_period(case: str, s3_client: Any,
                                                          s3_bucket: str,
                                                          warehouse: Warehouse) -> None:
    put_legacy(s3_client, s3_bucket, gzip.compress(small_csv().encode()))
    ingest(s3_client, s3_bucket, warehouse)
    before = sums(warehouse)
    body, words = BAD[case]
    put_legacy(s3_client, s3_bucket, body, assembly="asm-2")
    with pytest.raises(InputError) as error:
        ingest(s3_client, s3_bucket, warehouse)
    for word in words:
        assert word in str(error.value)
    assert sums(warehouse) == before
    failed = warehouse.frame(
        "SELECT count(*) FROM ingest_runs WHERE source = 'aws-cur' AND status = 'failed'"
    ).rows()[0]
    assert failed == (1,)


@pytest.mark.integration
def test_manifest_naming_a_missing_file(s3_client: Any, s3_bucket: str,
                                        warehouse: Warehouse) -> None:
    put_legacy(s3_client, s3_bucket, gzip.compress(small_csv().encode()))
    ingest(s3_client, s3_bucket, warehouse)
    before = sums(warehouse)
    put_legacy(s3_client, s3_bucket, None, assembly="asm-2")
    with pytest.raises(InputError, match=r"asm-2/rep-1\.csv\.gz: object not found"):
        ingest(s3_client, s3_bucket, warehouse)
    assert sums(warehouse) == before


@pytest.mark.integration
def test_currency_mix_names_both_files(s3_client: Any, s3_bucket: str,
                                       warehouse: Warehouse) -> None:
    folder = "cur/rep/20231101-20231201/asm-1"
    s3_client.put_object(Bucket=s3_bucket, Key=f"{folder}/rep-2.csv.gz",
                         Body=gzip.compress(small_csv(euro).encode()))
    put_legacy(s3_client, s3_bucket, gzip.compress(small_csv().encode()),
               keys=[f"{folder}/rep-1.csv.gz", f"{folder}/rep-2.csv.gz"])
    with pytest.raises(InputError, match=r"currency mix.*EUR in .*rep-2\.csv\.gz.*USD in "):
        ingest(s3_client, s3_bucket, warehouse)
    assert sums(warehouse)["rows"] == 0


def test_parquet_column_of_the_wrong_type(tmp_path: Path, warehouse: Warehouse) -> None:
    import pyarrow as pa

    table = pq.read_table(CUR2 / CUR2_DATA / "finops-cur2-00001.snappy.parquet")
    index = table.schema.get_field_index("line_item_unblended_cost")
    table = table.set_column(index, "line_item_unblended_cost",
                             pa.array([True] * table.num_rows))
    pq.write_table(table, tmp_path / "bad.parquet")
    store, prefix = aws_cur_store(tmp_path / "bad.parquet")
    with pytest.raises(InputError, match=r"bad\.parquet: column line_item_unblended_cost has "
                                         r"type BOOLEAN"):
        load_store(store, prefix, warehouse)


def aws_cur_store(path: Path) -> tuple[Any, str]:
    from ingestion.billing.s3 import open_store

    return open_store(str(path), None)


# -- the command, as a user runs it --------------------------------------------------------------
def run_cli(args: list[str]) -> int:
    from tests.support import exit_code

    return exit_code(args)


@pytest.mark.integration
def test_cli_ingests_s3_and_local_demo_layout(s3_client: Any, s3_bucket: str,
                                              moto_endpoint: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    upload_tree(s3_client, s3_bucket, CUR2, prefix="bills/")
    db = str(tmp_path / "w.duckdb")
    code = run_cli(["--db", db, "ingest", "aws-cur", f"s3://{s3_bucket}/bills",
                    "--endpoint-url", moto_endpoint])
    assert code == 0, capsys.readouterr()
    assert "aws-cur 2026-10: 18 rows (ok" in capsys.readouterr().err
    assert run_cli(["--db", db, "ingest", "aws-cur", str(CUR2)]) == 0  # local, same layout
    with Warehouse(Path(db)) as warehouse:
        assert sums(warehouse)["rows"] == 18  # the local copy replaced the S3 one


@pytest.mark.integration
def test_cli_bad_input_exits_1_naming_the_file(s3_client: Any, s3_bucket: str,
                                               moto_endpoint: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    put_legacy(s3_client, s3_bucket, gzip.compress(small_csv(drop_cost).encode()))
    code = run_cli(["--db", str(tmp_path / "w.duckdb"), "ingest", "aws-cur",
                    f"s3://{s3_bucket}/cur", "--endpoint-url", moto_endpoint])
    err = capsys.readouterr().err
    assert code == 1
    assert f"Error: s3://{s3_bucket}/cur/rep/20231101-20231201/asm-1/rep-1.csv.gz: missing " \
           "required column(s) line_item_unblended_cost" in err.replace("\n", "")
