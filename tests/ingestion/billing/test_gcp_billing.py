"""GCP billing export -> cost_line: koku CSV samples to the cent, synthetic GKE cost
allocation rows (JSONL, Parquet; Parquet also streamed in small batches and compared with
the one-frame read), and ``bq://`` through a FAKE BigQuery client object (no server: it
records the SQL/parameters it is sent and returns Arrow rows)."""

from __future__ import annotations

import ast
import csv
import json
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from finops.cli import common
from finops.pipeline.store import store
from finops.warehouse import Warehouse
from ingestion.billing.cost_lines import cost_lines_load, streamed_cost_lines_load
from ingestion.billing.gcp_billing import (
    GLOBAL_NAME_TAG,
    SOURCE,
    iter_gcp_file,
    read_bigquery,
    read_gcp_file,
)
from models.errors import InputError
from tests.support import run_cli

DATA = Path(__file__).parents[1] / "data" / "gcp-billing"
KOKU = sorted(DATA.glob("*.csv"))


def koku_sums(path: Path) -> dict[str, float]:
    cost = credits = 0.0
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            cost += float(row["cost"])
            credits += sum(c["amount"] for c in ast.literal_eval(row["credits"] or "[]"))
    return {"cost": cost, "net": cost + credits}


@pytest.mark.parametrize("path", KOKU, ids=lambda p: p.name)
def test_koku_exports_sum_to_the_cent(path: Path, warehouse: Warehouse) -> None:
    store(warehouse, cost_lines_load("gcp-billing", [read_gcp_file(path)], [path]))
    got = warehouse.frame("SELECT sum(billed_cost) AS billed, sum(effective_cost) AS eff, "
                          "sum(contracted_cost) AS contracted, sum(list_cost) AS list "
                          "FROM cost_line").row(0, named=True)
    source = koku_sums(path)
    assert abs(got["billed"] - source["net"]) < 1e-9 and abs(got["eff"] - source["net"]) < 1e-9
    assert abs(got["contracted"] - source["cost"]) < 1e-9
    assert abs(got["list"] - source["cost"]) < 1e-9  # no cost_at_list in these exports


def test_invoice_month_is_the_billing_period() -> None:
    frame = read_gcp_file(DATA / "2024-03-01_5.csv")
    periods = {str(p)[:7] for p in frame["billing_period_start"]}
    assert periods == {"2024-02", "2024-03"}
    assert frame["billing_account_id"][0] == "018984-D0AAA4-940B88"
    assert frame["sub_account_id"][0] == "cloud-billing-292519"


def gke_rows() -> list[dict[str, Any]]:
    """Synthetic detailed-export rows with GKE cost allocation labels (none are public)."""
    node = {
        "billing_account_id": "01A2B3-C4D5E6-F7A8B9",
        "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
        "sku": {"id": "CP-N2", "description": "N2 Instance Core running in Americas"},
        "usage_start_time": "2025-03-31T23:00:00Z", "usage_end_time": "2025-04-01T00:00:00Z",
        "project": {"id": "shop-prod", "name": "Shop",
                    "labels": [{"key": "team", "value": "platform"},
                               {"key": "env", "value": "prod"}]},
        "labels": [{"key": "goog-k8s-cluster-name", "value": "prod-1"},
                   {"key": "k8s-namespace", "value": "checkout"},
                   {"key": "k8s-label/app", "value": "cart"},
                   {"key": "team", "value": "payments"}],
        "system_labels": [{"key": "compute.googleapis.com/machine_spec",
                           "value": "n2-standard-4"}],
        "location": {"location": "us-central1", "country": "US", "region": "us-central1",
                     "zone": "us-central1-a"},
        "resource": {"name": "gke-prod-1-pool-abc", "global_name":
                     "//compute.googleapis.com/projects/shop-prod/zones/us-central1-a/"
                     "instances/1234567890"},
        "cost": 1.5, "currency": "USD", "cost_at_list": 2.0,
        "usage": {"amount": 3600.0, "unit": "seconds", "amount_in_pricing_units": 1.0,
                  "pricing_unit": "hour"},
        "credits": [{"name": "CUD", "amount": -0.5, "full_name": None, "id": "cud-1",
                     "type": "COMMITTED_USAGE_DISCOUNT"},
                    {"name": "SUD", "amount": -0.1, "full_name": None, "id": "sud",
                     "type": "SUSTAINED_USAGE_DISCOUNT"}],
        "invoice": {"month": "202503"}, "cost_type": "regular",
    }
    idle = json.loads(json.dumps(node))
    idle["labels"][1]["value"] = "kube:unallocated"
    idle["cost"], idle["credits"], idle["cost_at_list"] = 0.25, [], 0.25
    tax = json.loads(json.dumps(node))
    tax.update(cost_type="tax", cost=0.19, cost_at_list=0.19, credits=[], labels=[],
               system_labels=[], resource={"name": None, "global_name": None})
    return [node, idle, tax]


def check_gke(frame: Any) -> None:
    node = frame.row(0, named=True)
    assert node["x_cluster"] == "prod-1" and node["x_namespace"] == "checkout"
    assert node["resource_id"] == "gce://shop-prod/us-central1-a/gke-prod-1-pool-abc"
    tags = {t["key"]: t["value"] for t in node["tags"]}
    assert tags["team"] == "payments"  # the resource label wins over the project label
    assert tags["env"] == "prod"  # inherited from project.labels
    assert tags["k8s-label/app"] == "cart"
    assert tags["compute.googleapis.com/machine_spec"] == "n2-standard-4"
    assert tags[GLOBAL_NAME_TAG].endswith("/instances/1234567890")
    assert node["billed_cost"] == pytest.approx(0.9) and node["contracted_cost"] == 1.5
    assert node["list_cost"] == 2.0
    assert node["commitment_discount_id"] == "cud-1"
    assert node["commitment_discount_status"] == "Used"
    assert str(node["billing_period_start"]) == "2025-03-01 00:00:00"
    assert frame["x_namespace"][1] == "kube:unallocated"
    assert frame["charge_category"].to_list() == ["Usage", "Usage", "Tax"]
    assert frame["resource_id"][2] is None
    assert frame["billed_cost"].sum() == pytest.approx(0.9 + 0.25 + 0.19)


def test_gke_rows_from_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in gke_rows()) + "\n")
    check_gke(read_gcp_file(path))


def test_gke_rows_from_parquet(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    pq.write_table(pa.Table.from_pylist(gke_rows()), path)
    check_gke(read_gcp_file(path))


def test_bad_gcp_inputs(tmp_path: Path) -> None:
    rows = gke_rows()
    rows[1]["invoice"] = {"month": "March"}
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(InputError, match=r"bad\.jsonl: row 2, column 'invoice\.month'"):
        read_gcp_file(path)
    rows = gke_rows()
    for row in rows:
        del row["currency"]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(InputError, match=r"missing required column\(s\): currency"):
        read_gcp_file(path)


class FakeBigQuery:
    """Stands in for ``google.cloud.bigquery.Client``: ``get_table`` and ``query`` only."""

    def __init__(self, rows: list[dict[str, Any]], fields: list[str]) -> None:
        self.rows, self.fields = rows, fields
        self.queries: list[tuple[str, dict[str, Any]]] = []

    def get_table(self, table: str) -> Any:
        return SimpleNamespace(schema=[SimpleNamespace(name=f) for f in self.fields])

    def query(self, sql: str, job_config: Any) -> Any:
        params = {p.name: p.value for p in job_config.query_parameters}
        self.queries.append((sql, params))
        table = pa.Table.from_pylist(self.rows)
        return SimpleNamespace(result=lambda: SimpleNamespace(to_arrow=lambda: table))


def test_bigquery_pushdown_and_mapping() -> None:
    client = FakeBigQuery(gke_rows(), [*gke_rows()[0].keys(), "export_time", "tags"])
    frame = read_bigquery(client, "billing.export.gcp_billing_export_resource_v1_X",
                          date(2025, 3, 1))
    check_gke(frame)
    sql, params = client.queries[0]
    assert "export_time" not in sql and "tags" not in sql.split("FROM")[0]  # needed cols only
    assert "FROM `billing.export.gcp_billing_export_resource_v1_X`" in sql
    assert "DATE(_PARTITIONTIME) >= @partition_from" in sql
    assert "usage_start_time >= TIMESTAMP(@partition_from)" in sql
    assert params == {"partition_from": date(2025, 1, 25), "partition_to": date(2025, 4, 8),
                      "invoice_month": "202503"}


def test_bigquery_standard_table_through_the_cli_loader(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "resource"} for r in gke_rows()]
    client = FakeBigQuery(rows, list(rows[0]))
    common.state.db, common.state._settings = tmp_path / "w.duckdb", None
    try:
        from finops.cli.ingest.billing import ingest_bigquery

        [run] = ingest_bigquery(client, ["bq://p.d.gcp_billing_export_v1_X"], date(2025, 3, 1))
        [again] = ingest_bigquery(client, ["bq://p.d.gcp_billing_export_v1_X"],
                                  date(2025, 3, 1))  # a newer read of the table restates
    finally:
        common.state.db, common.state._settings = None, None
    assert "resource" not in client.queries[0][0].split("FROM")[0]
    assert run.rows == again.rows == 3
    assert [c.action for c in again.partitions] == ["restated"]
    with Warehouse(tmp_path / "w.duckdb") as warehouse:
        got = warehouse.frame("SELECT count(*) AS n, sum(billed_cost) AS b FROM cost_line")
        assert got["n"][0] == 3 and got["b"][0] == pytest.approx(1.34)
        assert warehouse.frame("SELECT files FROM ingest_runs")["files"][0].to_list() == [
            "bq://p.d.gcp_billing_export_v1_X"]


# -- streamed Parquet (``iter_gcp_file``): same rows as one frame, bounded memory ----------
def export_rows(n: int, months: tuple[str, ...] = ("202503", "202504")) -> list[dict[str, Any]]:
    """``n`` detailed-export rows cycling the GKE node/idle/tax rows, each with its own cost
    (so rows sort uniquely), credits, project, usage hour and invoice month."""
    base = gke_rows()
    rows = []
    for i in range(n):
        row = json.loads(json.dumps(base[i % 3]))
        row["cost"] = round(1.013 * (i + 1), 6)
        row["cost_at_list"] = round(1.2 * (i + 1), 6)
        if row["credits"]:
            row["credits"][0]["amount"] = round(-0.0107 * (i + 1), 6)
        row["project"]["id"] = f"proj-{i % 4}"
        row["usage_start_time"] = f"2025-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
        row["invoice"] = {"month": months[i % len(months)]}
        rows.append(row)
    return rows


def write_parquet(path: Path, rows: list[dict[str, Any]], row_group_size: int = 4) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)
    return path


def net_total(rows: list[dict[str, Any]]) -> float:
    """The source's net cost (cost + credits), summed in Python, not by the reader."""
    return sum(r["cost"] + sum(c["amount"] for c in r["credits"]) for r in rows)


def cost_lines(warehouse: Warehouse) -> pl.DataFrame:
    frame = warehouse.frame("SELECT * EXCLUDE (x_ingest_run) FROM cost_line")
    return frame.sort("billed_cost", "billing_period_start")


def test_streamed_batches_equal_the_one_frame_read(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "export.parquet", export_rows(23))
    batches = list(iter_gcp_file(path, batch_rows=5))
    assert [b.height for b in batches] == [5, 5, 5, 5, 3]
    assert batches[1]["_row"].to_list() == [6, 7, 8, 9, 10]  # the file's row numbers
    assert_frame_equal(pl.concat(batches), read_gcp_file(path))


def test_streamed_load_equals_one_frame_load_to_the_cent(tmp_path: Path) -> None:
    rows = export_rows(23)
    path = write_parquet(tmp_path / "export.parquet", rows)
    with Warehouse(tmp_path / "one.duckdb") as one, Warehouse(tmp_path / "str.duckdb") as st:
        store(one, cost_lines_load(SOURCE, [read_gcp_file(path)], [path]))
        stream = iter_gcp_file(path, batch_rows=5)
        run = store(st, streamed_cost_lines_load(SOURCE, stream, [path]))
        assert run.status == "ok" and run.rows == 23
        assert_frame_equal(cost_lines(st), cost_lines(one))
        window = "SELECT window_start, window_end FROM ingest_runs"
        assert_frame_equal(st.frame(window), one.frame(window))
        total = st.frame("SELECT sum(billed_cost) AS b, count(*) AS n FROM cost_line").row(0)
        assert round(total[0], 2) == round(net_total(rows), 2) and total[1] == 23
        assert not list(Path(st.path.parent).glob(".finops-spool-*"))


def test_streamed_load_restates_only_the_periods_in_the_file(warehouse: Warehouse,
                                                             tmp_path: Path) -> None:
    both = write_parquet(tmp_path / "both.parquet", export_rows(20))
    march = export_rows(7, months=("202503",))
    restated = write_parquet(tmp_path / "march.parquet", march)
    for path in (both, restated):
        store(warehouse, streamed_cost_lines_load(SOURCE, iter_gcp_file(path, batch_rows=3),
                                                  [path]))
    got = warehouse.frame("SELECT strftime(billing_period_start, '%Y%m') AS m, count(*) AS n, "
                          "sum(billed_cost) AS b FROM cost_line GROUP BY m ORDER BY m")
    april = [r for r in export_rows(20) if r["invoice"]["month"] == "202504"]
    assert got["m"].to_list() == ["202503", "202504"]
    assert got["n"].to_list() == [7, len(april)]
    assert round(got["b"][0], 2) == round(net_total(march), 2)
    assert round(got["b"][1], 2) == round(net_total(april), 2)


def test_bad_row_in_second_batch_names_the_file_row_and_keeps_the_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "w.duckdb"
    good_rows = export_rows(12)
    good = write_parquet(tmp_path / "good.parquet", good_rows)
    bad_rows = export_rows(13)
    bad_rows[7]["invoice"] = {"month": "March"}  # file row 8: the second batch of 5
    bad = write_parquet(tmp_path / "bad.parquet", bad_rows)
    assert run_cli(["--db", str(db), "ingest", "gcp-billing", "--batch-rows", "5",
                    str(good)], capsys)[0] == 0
    code, out, err = run_cli(["--db", str(db), "ingest", "gcp-billing", "--batch-rows", "5",
                              str(bad)], capsys)
    assert code == 1
    assert re.search(r"bad\.parquet: row 8, column 'invoice\.month': 'March'", out + err)
    with Warehouse(db) as warehouse:
        total = warehouse.frame("SELECT count(*) AS n, sum(billed_cost) AS b FROM cost_line")
        assert total["n"][0] == 12 and round(total["b"][0], 2) == round(net_total(good_rows), 2)
        runs = warehouse.frame("SELECT status, error FROM ingest_runs ORDER BY started_at")
        assert runs["status"].to_list() == ["ok", "failed"]
        assert "row 8" in runs["error"][1]
        assert not list(Path(warehouse.path.parent).glob(".finops-spool-*"))


def test_currency_mix_across_batches_is_rejected(warehouse: Warehouse, tmp_path: Path) -> None:
    rows = export_rows(12, months=("202503",))
    rows[10]["currency"] = "EUR"  # file row 11, third batch: the first two were USD
    path = write_parquet(tmp_path / "mixed.parquet", rows)
    with pytest.raises(InputError, match=r"mixed\.parquet: billing account 01A2B3-C4D5E6-F7A8B9 "
                       r"period 2025-03 mixes currencies \['EUR', 'USD'\].*row 11"):
        stream = iter_gcp_file(path, batch_rows=5)
        store(warehouse, streamed_cost_lines_load(SOURCE, stream, [path]))
    assert warehouse.frame("SELECT count(*) AS n FROM cost_line")["n"][0] == 0
    assert warehouse.frame("SELECT status FROM ingest_runs")["status"].to_list() == ["failed"]
