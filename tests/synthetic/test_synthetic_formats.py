"""The demo files are in the providers' formats and the warehouse shapes."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from models import schemas

CUR_REQUIRED = (
    "identity_line_item_id", "bill_payer_account_id", "line_item_usage_account_id",
    "line_item_line_item_type", "line_item_usage_start_date", "line_item_usage_end_date",
    "line_item_product_code", "line_item_resource_id", "line_item_usage_amount",
    "line_item_unblended_cost", "line_item_blended_cost", "pricing_public_on_demand_cost",
    "savings_plan_savings_plan_effective_cost", "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment", "reservation_effective_cost", "product_region_code",
    "resource_tags", "line_item_currency_code", "bill_billing_period_start_date",
)


def test_cur_layout_and_manifest(demo: Path, manifest: dict, cur_files: list[Path]) -> None:
    assert manifest["billingPeriod"]["start"].startswith("2026-10-01")
    assert all(p.exists() for p in cur_files)
    for path in cur_files:
        rel = path.relative_to(demo / "aws").as_posix()
        assert rel.startswith("cur2/acme-cur2-hourly/data/BILLING_PERIOD=2026-10/")
        assert rel.endswith(".snappy.parquet")
    names = [c["name"] for c in manifest["columns"]]
    assert names == pq.read_schema(cur_files[0]).names


def test_cur_columns_and_types(cur_files: list[Path]) -> None:
    schema = pq.read_schema(cur_files[0])
    assert set(CUR_REQUIRED) <= set(schema.names)
    assert schema.field("resource_tags").type == pa.map_(pa.string(), pa.string())
    assert schema.field("line_item_usage_start_date").type == pa.timestamp("ms")
    assert schema.field("line_item_unblended_cost").type == pa.float64()


def test_cur_has_every_kind_of_charge(cur) -> None:
    kinds = {r[0] for r in cur.execute("SELECT DISTINCT line_item_line_item_type FROM cur")
             .fetchall()}
    assert kinds == {"Usage", "SavingsPlanCoveredUsage", "SavingsPlanNegation",
                     "SavingsPlanRecurringFee", "Credit", "Tax"}
    products = {r[0] for r in cur.execute("SELECT DISTINCT line_item_product_code FROM cur")
                .fetchall()}
    assert {"AmazonEC2", "AmazonEKS", "AWSELB", "AmazonRDS", "AmazonS3"} <= products
    accounts = cur.execute("SELECT DISTINCT bill_payer_account_id, line_item_usage_account_id "
                           "FROM cur ORDER BY 2").fetchall()
    assert accounts == [("210987654321", "345678901234"), ("210987654321", "456789012345")]


def test_savings_plan_leaves_some_commitment_unused(cur) -> None:
    unused, hours = cur.execute(
        "SELECT sum(savings_plan_total_commitment_to_date - savings_plan_used_commitment), "
        "count(*) FILTER (WHERE savings_plan_used_commitment < "
        "savings_plan_total_commitment_to_date - 0.01) "
        "FROM cur WHERE line_item_line_item_type = 'SavingsPlanRecurringFee'").fetchone()
    assert unused > 1 and hours > 100


def test_team_tags_and_untagged(cur) -> None:
    teams = {r[0] for r in cur.execute(
        "SELECT DISTINCT resource_tags['user_team'] FROM cur").fetchall()}
    assert {"payments", "checkout", "data", None} <= teams
    untagged = cur.execute("SELECT count(*) FROM cur WHERE line_item_usage_account_id = "
                           "'456789012345' AND cardinality(resource_tags) > 0").fetchone()[0]
    assert untagged == 0


def test_gcp_rows(gcp: pl.DataFrame) -> None:
    for column in ("billing_account_id", "service", "sku", "usage_start_time", "usage_end_time",
                   "project", "labels", "system_labels", "location", "resource", "cost",
                   "currency", "usage", "credits", "invoice", "cost_type"):
        assert column in gcp.columns
    assert gcp["invoice"].struct.field("month").unique().to_list() == ["202610"]
    labels = gcp["labels"].explode(empty_as_null=True).struct.field("key")
    label_keys = set(labels.drop_nulls().to_list())
    assert {"goog-k8s-cluster-name", "k8s-namespace", "team"} <= label_keys
    credits = gcp["credits"].explode(empty_as_null=True).struct.field("type")
    credit_types = set(credits.drop_nulls().to_list())
    assert credit_types == {"SUSTAINED_USAGE_DISCOUNT"}


def test_azure_focus_columns(demo: Path) -> None:
    frame = pl.read_csv(demo / "azure" / "focus_2026-10.csv", infer_schema=False)
    for column in ("BilledCost", "EffectiveCost", "ListCost", "BillingAccountId",
                   "SubAccountId", "ChargeCategory", "ChargePeriodStart", "ResourceId",
                   "ServiceName", "Tags", "x_ResourceGroupName"):
        assert column in frame.columns
    assert frame.columns.index("Tags") < frame.columns.index("x_AccountName")
    tags = frame["Tags"].unique().to_list()
    assert '{"team":"search"}' in tags and "{}" in tags


def test_usage_tables_match_schemas(usage: dict[str, pl.DataFrame]) -> None:
    for table in (schemas.K8S_NODE_HOUR, schemas.K8S_POD_HOUR, schemas.K8S_NAMESPACE,
                  schemas.K8S_QUOTA_HOUR, schemas.K8S_VOLUME_HOUR, schemas.K8S_LB_HOUR):
        frame = usage[table.name]
        assert frame.schema == table.schema, table.name
        assert frame.height > 0
        if table.grain:
            assert frame.select(table.grain).is_duplicated().sum() == 0, table.name
