"""GCP billing export -> cost_line: koku CSV samples to the cent, synthetic GKE cost
allocation rows (JSONL, Parquet), and ``bq://`` through a FAKE BigQuery client object
(no server: it records the SQL/parameters it is sent and returns Arrow rows)."""

from __future__ import annotations

import ast
import csv
import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops.cli import common
from finops.errors import InputError
from finops.warehouse import Warehouse
from ingestion import billing_common as bc
from ingestion.gcp_billing import GLOBAL_NAME_TAG, read_bigquery, read_gcp_file

DATA = Path(__file__).parent / "data" / "gcp-billing"
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
    bc.load_cost_lines(warehouse, "gcp-billing", [read_gcp_file(path)], [path])
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
        from finops.cli.billing import ingest_bigquery

        run = ingest_bigquery(client, ["bq://p.d.gcp_billing_export_v1_X"], date(2025, 3, 1))
        again = ingest_bigquery(client, ["bq://p.d.gcp_billing_export_v1_X"], date(2025, 3, 1))
    finally:
        common.state.db, common.state._settings = None, None
    assert "resource" not in client.queries[0][0].split("FROM")[0]
    assert run.rows == again.rows == 3
    with Warehouse(tmp_path / "w.duckdb") as warehouse:
        got = warehouse.frame("SELECT count(*) AS n, sum(billed_cost) AS b FROM cost_line")
        assert got["n"][0] == 3 and got["b"][0] == pytest.approx(1.34)
        assert warehouse.frame("SELECT files FROM ingest_runs")["files"][0].to_list() == [
            "bq://p.d.gcp_billing_export_v1_X"]
