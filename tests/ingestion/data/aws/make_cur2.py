"""Write the SYNTHETIC CUR 2.0 Data Exports fixture (two Parquet chunks + manifest).

No public CUR 2.0 Parquet sample exists (shared/reference/billing-formats.md §2.3), so the
rows are hand-made from the CUR 2.0 column list and types (§2.2): every line item type the
effective-cost rules treat differently, EKS split cost allocation rows for one instance,
tags in the ``resource_tags`` map, a payer id with a leading zero.

Run: ``.venv/bin/python tests/ingestion/data/aws/make_cur2.py`` (output is committed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).parent / "cur2"
EXPORT = "finops-cur2"
PERIOD = "2026-10"
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
H0, H1 = datetime(2026, 10, 5, 10, tzinfo=UTC), datetime(2026, 10, 5, 11, tzinfo=UTC)
PAYER, ACCOUNT = "012345678901", "000111222333"
SP = "arn:aws:savingsplans::012345678901:savingsplan/sp-0001"
RI = "arn:aws:ec2:us-east-1:012345678901:reserved-instances/ri-0001"
POD = "arn:aws:eks:us-east-1:000111222333:pod/prod-eks/{ns}/{pod}/uid-{pod}"

# (type, resource, operation, usage_type, product_code, unblended, extra columns, tags)
ROWS: list[tuple[str, str | None, str, str, str, float, dict[str, object], dict[str, str]]] = [
    ("Usage", "i-0aaa", "RunInstances", "BoxUsage:m6i.xlarge", "AmazonEC2", 0.192,
     {"pricing_public_on_demand_cost": 0.192}, {"user:team": "platform"}),
    ("Usage", POD.format(ns="payments", pod="api-1"), "EKSPod-EC2", "USE1-EKS-EC2-vCPU-Hours",
     "AmazonEC2", 0.0, {"split_line_item_parent_resource_id": "i-0aaa",
                        "split_line_item_split_cost": 0.10, "split_line_item_unused_cost": 0.02},
     {"aws:eks:namespace": "payments"}),
    ("Usage", POD.format(ns="search", pod="idx-1"), "EKSPod-EC2", "USE1-EKS-EC2-GB-Hours",
     "AmazonEC2", 0.0, {"split_line_item_parent_resource_id": "i-0aaa",
                        "split_line_item_split_cost": 0.05, "split_line_item_unused_cost": 0.01},
     {"aws:eks:namespace": "search"}),
    ("SavingsPlanCoveredUsage", "i-0bbb", "RunInstances", "BoxUsage:m6i.2xlarge", "AmazonEC2",
     0.384, {"savings_plan_savings_plan_effective_cost": 0.25,
             "savings_plan_savings_plan_a_r_n": SP, "pricing_public_on_demand_cost": 0.384},
     {"user:team": "search"}),
    ("SavingsPlanNegation", "i-0bbb", "RunInstances", "BoxUsage:m6i.2xlarge", "AmazonEC2",
     -0.384, {"savings_plan_savings_plan_a_r_n": SP}, {}),
    ("SavingsPlanRecurringFee", SP, "", "ComputeSP:1yrNoUpfront", "ComputeSavingsPlans", 0.30,
     {"savings_plan_total_commitment_to_date": 0.30, "savings_plan_used_commitment": 0.25,
      "savings_plan_savings_plan_a_r_n": SP}, {}),
    ("SavingsPlanUpfrontFee", SP, "", "ComputeSP:1yrAllUpfront", "ComputeSavingsPlans", 100.0,
     {"savings_plan_savings_plan_a_r_n": SP}, {}),
    ("DiscountedUsage", "i-0ccc", "RunInstances", "HeavyUsage:m6i.large", "AmazonEC2", 0.0,
     {"reservation_effective_cost": 0.07, "reservation_reservation_a_r_n": RI,
      "pricing_public_on_demand_cost": 0.096}, {"user:team": "payments"}),
    ("RIFee", RI, "", "HeavyUsage:m6i.large", "AmazonEC2", 50.0,
     {"reservation_unused_amortized_upfront_fee_for_billing_period": 1.5,
      "reservation_unused_recurring_fee": 3.5, "reservation_reservation_a_r_n": RI}, {}),
    ("Fee", RI, "", "HeavyUsage:m6i.large", "AmazonEC2", 500.0,
     {"reservation_reservation_a_r_n": RI}, {}),
    ("Fee", None, "", "Support-Business", "AWSSupportBusiness", 29.0, {}, {}),
    ("Tax", None, "", "", "AmazonEC2", 12.34, {}, {}),
    ("Credit", None, "", "", "AmazonEC2", -5.0, {}, {}),
    ("Refund", None, "", "", "AmazonS3", -1.25, {}, {}),
    ("Usage", "finops-bucket", "PutObject", "Requests-Tier1", "AmazonS3", 1.11,
     {"pricing_public_on_demand_cost": 1.11}, {"user:team": "search", "user:env": "prod"}),
    ("EdpDiscount", None, "", "", "AmazonEC2", -0.5, {}, {}),
]
NUMBERS = ["line_item_unblended_cost", "line_item_usage_amount", "pricing_public_on_demand_cost",
           "reservation_effective_cost",
           "reservation_unused_amortized_upfront_fee_for_billing_period",
           "reservation_unused_recurring_fee", "savings_plan_savings_plan_effective_cost",
           "savings_plan_total_commitment_to_date", "savings_plan_used_commitment",
           "split_line_item_split_cost", "split_line_item_unused_cost"]
TEXTS = ["reservation_reservation_a_r_n", "savings_plan_savings_plan_a_r_n",
         "split_line_item_parent_resource_id"]


def record(index: int, row: tuple) -> dict[str, object]:  # type: ignore[type-arg]
    kind, resource, operation, usage_type, code, cost, extra, tags = row
    out: dict[str, object] = {
        "identity_line_item_id": f"li-{index:04d}",
        "bill_bill_type": "Anniversary", "bill_billing_entity": "AWS",
        "bill_invoicing_entity": "Amazon Web Services, Inc.",
        "bill_payer_account_id": PAYER, "bill_payer_account_name": "finops-payer",
        "bill_billing_period_start_date": START, "bill_billing_period_end_date": END,
        "line_item_usage_account_id": ACCOUNT, "line_item_usage_account_name": "prod",
        "line_item_line_item_type": kind, "line_item_usage_start_date": H0,
        "line_item_usage_end_date": H1, "line_item_product_code": code,
        "line_item_usage_type": usage_type, "line_item_operation": operation,
        "line_item_availability_zone": "us-east-1a" if code == "AmazonEC2" else "",
        "line_item_resource_id": resource, "line_item_currency_code": "USD",
        "line_item_line_item_description": f"{kind} {usage_type}",
        "line_item_unblended_cost": cost, "line_item_usage_amount": 1.0,
        "pricing_unit": "Hrs", "product_region_code": "us-east-1",
        "product_servicecode": code, "product_sku": f"SKU{index:04d}",
        "product": {"product_name": "Amazon Elastic Compute Cloud"
                    if code == "AmazonEC2" else code},
        "resource_tags": tags,
    }
    for name in NUMBERS + TEXTS:
        out.setdefault(name, extra.get(name))
    return out


def schema() -> pa.Schema:
    fields = []
    for name, value in record(0, ROWS[0]).items():
        if name in ("product", "resource_tags"):
            fields.append(pa.field(name, pa.map_(pa.string(), pa.string())))
        elif isinstance(value, datetime):
            fields.append(pa.field(name, pa.timestamp("ms", tz="UTC")))
        elif name in NUMBERS:
            fields.append(pa.field(name, pa.float64()))
        else:
            fields.append(pa.field(name, pa.string()))
    return pa.schema(fields)


def write(records: list[dict[str, object]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{k: (list(v.items()) if isinstance(v, dict) else v) for k, v in r.items()}
            for r in records]
    pq.write_table(pa.Table.from_pylist(rows, schema=schema()), path, compression="snappy")


def main() -> None:
    records = [record(i, row) for i, row in enumerate(ROWS)]
    base = ROOT / "exports" / EXPORT
    data = base / "data" / f"BILLING_PERIOD={PERIOD}"
    names = [f"{EXPORT}-00001.snappy.parquet", f"{EXPORT}-00002.snappy.parquet"]
    write(records[:8], data / names[0])
    write(records[8:], data / names[1])
    manifest = {
        "executionId": "00000000-0000-0000-0000-000000000001",
        "billingPeriod": {"start": "2026-10-01T00:00:00.000Z", "end": "2026-11-01T00:00:00.000Z"},
        "dataFiles": [f"s3://finops-bills/exports/{EXPORT}/data/BILLING_PERIOD={PERIOD}/{n}"
                      for n in names],
        "columns": [{"name": f.name, "type": str(f.type)} for f in schema()],
    }
    meta = base / "metadata" / f"BILLING_PERIOD={PERIOD}" / f"{EXPORT}-Manifest.json"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
