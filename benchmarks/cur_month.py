"""A synthetic CUR 2.0 Data Export month of N line items, written fast (vectorised pyarrow).

The org-model generator (finops/synthetic) builds bills line by line from simulated
clusters; that is right for the demo but far too slow for 10 million lines. Here one
*hour template* of R rows (EC2 instances under a Savings Plan / RIs / on demand, their
SavingsPlanNegation rows, EKS split-cost pod rows, EBS, S3, data transfer, RDS, one
SavingsPlanRecurringFee) is tiled over the month's hours with ``take``, costs varied per
hour, plus a few monthly rows (RIFee, RI upfront Fee, Tax, Credit, Refund).

Layout and columns are the real ones: the 116 columns of the default CUR 2.0 query
(``finops.synthetic.cur_format``) plus the 11 ``split_line_item_*`` columns of split cost
allocation data, Parquet MAP columns (``product``, ``resource_tags``, ``tags``,
``cost_category``, ``discount``), millisecond timestamps, several snappy Parquet chunks
under ``data/BILLING_PERIOD=YYYY-MM/`` and a Manifest under ``metadata/…``. Synthetic.
"""

from __future__ import annotations

import json
import math
import random
import zlib
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from finops.synthetic.cur_format import ARROW_SCHEMA

EXPORT, BUCKET, PERIOD = "bench-cur2", "bench-billing", "2026-10"
START, HOURS = datetime(2026, 10, 1), 31 * 24
PAYER, MEMBERS = "123456789012", ("123456789012", "210987654321", "345678901234")
SPLIT = [("split_line_item_actual_usage", pa.float64()),
         ("split_line_item_net_split_cost", pa.float64()),
         ("split_line_item_net_unused_cost", pa.float64()),
         ("split_line_item_parent_resource_id", pa.string()),
         ("split_line_item_public_on_demand_split_cost", pa.float64()),
         ("split_line_item_public_on_demand_unused_cost", pa.float64()),
         ("split_line_item_reserved_usage", pa.float64()),
         ("split_line_item_split_cost", pa.float64()),
         ("split_line_item_split_usage", pa.float64()),
         ("split_line_item_split_usage_ratio", pa.float64()),
         ("split_line_item_unused_cost", pa.float64())]
SCHEMA = pa.schema(list(ARROW_SCHEMA) + [pa.field(n, t) for n, t in SPLIT])
SP_ARN = f"arn:aws:savingsplans::{PAYER}:savingsplan/5d3c8e1a-7b2f-4c9d-a6e4-0f1b2c3d4e5f"
RI_ARN = f"arn:aws:ec2:us-east-1:{PAYER}:reserved-instances/7c1e2d3f-0a9b-4c8d-9e7f-1a2b3c4d5e6f"
INSTANCES = {"m5.xlarge": (0.192, 4, 16), "m5.2xlarge": (0.384, 8, 32),
             "c5.2xlarge": (0.34, 8, 16), "r5.xlarge": (0.252, 4, 32)}
TEAMS = ("payments", "search", "data", "platform", "checkout", "ml")
SERVICES = {  # code -> (product name, family, operation, usage type, unit, rate, resource fmt)
    "ebs": ("AmazonEC2", "Amazon Elastic Compute Cloud", "Storage", "CreateVolume-Gp3",
            "USE1-EBS:VolumeUsage.gp3", "GB-Mo", 0.08 / 744, "vol-{:017x}"),
    "s3": ("AmazonS3", "Amazon Simple Storage Service", "Storage", "StandardStorage",
           "TimedStorage-ByteHrs", "GB-Mo", 0.023 / 744, "bench-bucket-{}"),
    "dt": ("AWSDataTransfer", "AWS Data Transfer", "Data Transfer", "RunInstances",
           "USE1-DataTransfer-Out-Bytes", "GB", 0.09, "i-{:017x}"),
    "rds": ("AmazonRDS", "Amazon Relational Database Service", "Database Instance",
            "CreateDBInstance:0014", "USE1-InstanceUsage:db.r5.large", "Hrs", 0.25,
            "arn:aws:rds:us-east-1:" + PAYER + ":db:bench-{}"),
}


# -- the hour template --------------------------------------------------------------------
def _roles(rows: int) -> list[str]:
    """Row roles of one hour: ~12% instances, 4 pod rows per instance, SP negations."""
    instances = max(1, rows // 9)
    roles = ["inst"] * instances
    roles += ["neg"] * int(instances * 0.4)
    roles += ["pod"] * (4 * instances)
    roles += ["spfee"]
    rest = max(0, rows - len(roles))
    cycle = ["ebs", "ebs", "s3", "dt", "rds"]
    roles += [cycle[i % len(cycle)] for i in range(rest)]
    return roles[:rows]


def _instance_rows(n: int, rng: random.Random) -> list[dict[str, Any]]:
    types = list(INSTANCES)
    out = []
    for k in range(n):
        itype = types[k % len(types)]
        rate, vcpu, mem = INSTANCES[itype]
        kind = ("SavingsPlanCoveredUsage", "DiscountedUsage", "Usage")[k % 5 % 3 if k % 5 < 3
                                                                         else 2]
        eff = {"SavingsPlanCoveredUsage": rate * 0.72, "DiscountedUsage": rate * 0.6,
               "Usage": rate}[kind]
        out.append({"role": "inst", "k": k, "type": kind, "itype": itype, "rate": rate,
                    "vcpu": vcpu, "mem": mem, "eff": eff, "id": f"i-{rng.getrandbits(60):017x}",
                    "team": TEAMS[k % len(TEAMS)], "acct": MEMBERS[k % len(MEMBERS)]})
    return out


def _row(spec: dict[str, Any]) -> dict[str, Any]:
    """One template row as CUR column values (absent columns are null)."""
    role = spec["role"]
    if role in ("inst", "neg", "pod"):
        return _compute_row(spec)
    if role == "spfee":
        return _base_row("ComputeSavingsPlans", "Savings Plans for AWS Compute usage",
                         "Savings Plan", "", "ComputeSP:1yrNoUpfront", PAYER, "Hrs", 1.0, 40.0,
                         40.0, "SavingsPlanRecurringFee") | {
            "savings_plan_savings_plan_a_r_n": SP_ARN, "line_item_resource_id": SP_ARN,
            "savings_plan_total_commitment_to_date": 40.0,
            "savings_plan_used_commitment": 36.5,
            "savings_plan_recurring_commitment_for_billing_period": 40.0,
            "_tags": {}, "_desc": "1 year No Upfront Compute Savings Plan"}
    code, name, family, op, usage, unit, rate, fmt = SERVICES[role]
    k = spec["k"]
    amount = {"ebs": 500.0, "s3": 2000.0, "dt": 3.0, "rds": 1.0}[role] * (1 + k % 7 / 7)
    resource = fmt.format(k) if "{}" in fmt else fmt.format(1_000_000 + k)
    row = _base_row(code, name, family, op, usage, MEMBERS[k % 3], unit, amount, rate,
                    amount * rate)
    return row | {"line_item_resource_id": resource, "_desc": f"{name} {usage}",
                  "_tags": {"user_team": TEAMS[k % len(TEAMS)], "user_env": "prod"}}


def _base_row(code: str, name: str, family: str, op: str, usage: str, acct: str, unit: str,
              amount: float, rate: float, cost: float, kind: str = "Usage") -> dict[str, Any]:
    return {"line_item_product_code": code, "product_servicecode": code, "_name": name,
            "product_product_family": family, "line_item_operation": op,
            "product_operation": op, "line_item_usage_type": usage, "product_usagetype": usage,
            "line_item_line_item_type": kind, "line_item_usage_account_id": acct,
            "line_item_usage_account_name": f"acct-{acct[-4:]}", "pricing_unit": unit,
            "line_item_usage_amount": amount, "line_item_unblended_rate": f"{rate:.10g}",
            "line_item_unblended_cost": cost, "pricing_public_on_demand_cost": cost,
            "pricing_public_on_demand_rate": f"{rate:.10g}", "pricing_term": "OnDemand",
            "product_region_code": "us-east-1", "product_location": "US East (N. Virginia)",
            "line_item_availability_zone": "us-east-1a",
            "product_sku": f"SKU{zlib.crc32(usage.encode()):010d}"}


def _compute_row(spec: dict[str, Any]) -> dict[str, Any]:
    inst, role = spec["inst"], spec["role"]
    usage = f"USE1-BoxUsage:{inst['itype']}"
    if role == "pod":
        return _pod_row(spec, inst)
    cost = inst["rate"] if role == "inst" else -inst["rate"]
    kind = inst["type"] if role == "inst" else "SavingsPlanNegation"
    row = _base_row("AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance",
                    "RunInstances", usage, inst["acct"], "Hrs", 1.0, inst["rate"], cost, kind)
    row |= {"line_item_resource_id": inst["id"], "product_instance_type": inst["itype"],
            "_desc": f"${inst['rate']} per On Demand Linux {inst['itype']} Instance Hour",
            "_tags": {"user_team": inst["team"], "aws_eks_cluster_name": "prod-eks",
                      "user_eks_nodegroup_name": "main"},
            "_vcpu": inst["vcpu"], "_mem": inst["mem"]}
    if kind == "SavingsPlanCoveredUsage":
        row |= {"savings_plan_savings_plan_a_r_n": SP_ARN,
                "savings_plan_savings_plan_effective_cost": inst["eff"],
                "savings_plan_savings_plan_rate": inst["eff"]}
    elif kind == "DiscountedUsage":
        row |= {"reservation_reservation_a_r_n": RI_ARN, "reservation_effective_cost": inst["eff"],
                "line_item_unblended_cost": 0.0, "pricing_public_on_demand_cost": inst["rate"]}
    elif kind == "SavingsPlanNegation":
        row |= {"savings_plan_savings_plan_a_r_n": SP_ARN, "pricing_public_on_demand_cost": 0.0}
    return row


def _pod_row(spec: dict[str, Any], inst: dict[str, Any]) -> dict[str, Any]:
    pod, part = divmod(spec["slot"], 2)  # two pods per node, a vCPU and a GB row each
    resource = "vCPU" if part == 0 else "GB"
    ns = TEAMS[(inst["k"] + pod) % len(TEAMS)]
    name = f"{ns}-api-{inst['k']:05d}-{pod}"
    arn = f"arn:aws:eks:us-east-1:{inst['acct']}:pod/prod-eks/{ns}/{name}/{inst['k']:08x}-{pod}"
    share = (0.3 if pod == 0 else 0.25) * (0.6 if part == 0 else 0.4)
    row = _base_row("AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance",
                    "EKSPod-EC2", f"USE1-EKS-EC2-{resource}-Hours", inst["acct"], "Hrs",
                    1.0, 0.0, 0.0)
    return row | {"line_item_resource_id": arn, "split_line_item_parent_resource_id": inst["id"],
                  "split_line_item_split_cost": inst["eff"] * share,
                  "split_line_item_unused_cost": inst["eff"] * share * 0.5,
                  "split_line_item_net_split_cost": inst["eff"] * share,
                  "split_line_item_net_unused_cost": inst["eff"] * share * 0.5,
                  "split_line_item_public_on_demand_split_cost": inst["rate"] * share,
                  "split_line_item_public_on_demand_unused_cost": inst["rate"] * share * 0.5,
                  "split_line_item_split_usage_ratio": share,
                  "split_line_item_reserved_usage": share * inst["vcpu"],
                  "split_line_item_actual_usage": share * inst["vcpu"] * 0.7,
                  "split_line_item_split_usage": share * inst["vcpu"],
                  "_desc": f"{resource} hours of an EKS pod",
                  "_tags": {"aws_eks_cluster_name": "prod-eks", "aws_eks_namespace": ns,
                            "aws_eks_deployment": f"{ns}-api", "aws_eks_workload_name": name,
                            "aws_eks_node": inst["id"], "user_team": ns}}


def _specs(rows: int, rng: random.Random) -> list[dict[str, Any]]:
    roles = _roles(rows)
    insts = _instance_rows(roles.count("inst"), rng)
    covered = [i for i in insts if i["type"] == "SavingsPlanCoveredUsage"]
    counters: dict[str, int] = {}
    specs = []
    for role in roles:
        k = counters[role] = counters.get(role, -1) + 1
        if role == "inst":
            specs.append({"role": role, "k": k, "inst": insts[k]})
        elif role == "neg":
            specs.append({"role": role, "k": k, "inst": covered[k % len(covered)]})
        elif role == "pod":
            specs.append({"role": role, "k": k, "inst": insts[k // 4], "slot": k % 4})
        else:
            specs.append({"role": role, "k": k})
    return specs


def _monthly() -> list[dict[str, Any]]:
    """The once-a-month rows: RI fee and upfront fee, taxes, a credit and a refund."""
    ri = _base_row("AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance",
                   "RunInstances", "USE1-HeavyUsage:m5.xlarge", PAYER, "Hrs", 744.0, 0.0, 300.0,
                   "RIFee")
    ri |= {"reservation_reservation_a_r_n": RI_ARN, "line_item_resource_id": RI_ARN,
           "reservation_unused_amortized_upfront_fee_for_billing_period": 12.5,
           "reservation_unused_recurring_fee": 20.25, "_desc": "m5.xlarge reserved instance"}
    fee = _base_row("AmazonEC2", "Amazon Elastic Compute Cloud", "Compute Instance",
                    "RunInstances", "USE1-HeavyUsage:m5.xlarge", PAYER, "", 1.0, 0.0, 1200.0,
                    "Fee") | {"reservation_reservation_a_r_n": RI_ARN, "_desc": "upfront fee"}
    out = [ri, fee]
    for code, amount in (("AmazonEC2", 812.33), ("AmazonS3", 41.7), ("AmazonRDS", 95.01)):
        out.append(_base_row(code, code, "", "", "", PAYER, "", 0.0, 0.0, amount, "Tax")
                   | {"_desc": "Tax for product code " + code})
    out.append(_base_row("AmazonEC2", "Amazon Elastic Compute Cloud", "", "", "", PAYER, "",
                         0.0, 0.0, -250.0, "Credit") | {"_desc": "AWS Activate credit"})
    out.append(_base_row("AmazonS3", "Amazon Simple Storage Service", "", "", "", PAYER, "",
                         0.0, 0.0, -3.14, "Refund") | {"_desc": "Refund"})
    return [r | {"line_item_availability_zone": None, "_tags": {}} for r in out]


CONSTANTS: dict[str, Any] = {
    "bill_bill_type": "Anniversary", "bill_billing_entity": "AWS",
    "bill_billing_period_start_date": START,
    "bill_billing_period_end_date": START + timedelta(hours=HOURS),
    "bill_invoice_id": "EUINUS26-1234567", "bill_invoicing_entity": "Amazon Web Services, Inc.",
    "bill_payer_account_id": PAYER, "bill_payer_account_name": "bench-payer",
    "line_item_currency_code": "USD", "pricing_currency": "USD",
    "line_item_legal_entity": "Amazon Web Services, Inc.",
}
VARIED = ("line_item_usage_amount", "line_item_unblended_cost", "line_item_blended_cost",
          "line_item_net_unblended_cost", "pricing_public_on_demand_cost")


def _value(row: dict[str, Any], name: str) -> Any:
    if name in CONSTANTS:
        return CONSTANTS[name]
    if name in ("line_item_blended_cost", "line_item_net_unblended_cost"):
        return row.get("line_item_unblended_cost")
    if name == "line_item_line_item_description":
        return row.get("_desc")
    if name == "resource_tags":
        return list(row.get("_tags", {}).items())
    if name == "product":
        return _product_map(row)
    if name in ("tags", "cost_category", "discount"):
        return []
    return row.get(name)


def _product_map(row: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = [("product_name", row.get("_name") or ""), ("region", "us-east-1"),
             ("servicename", row.get("_name") or "")]
    if "_vcpu" in row:
        pairs += [("vcpu", str(row["_vcpu"])), ("memory", f"{row['_mem']} GiB"),
                  ("operating_system", "Linux"), ("tenancy", "Shared"),
                  ("physical_processor", "Intel Xeon Platinum 8175"),
                  ("network_performance", "Up to 10 Gigabit")]
    return pairs


def template(rows: list[dict[str, Any]]) -> pa.Table:
    """Template rows (dicts) -> one Arrow table in the export's schema."""
    arrays = [pa.array([_value(r, f.name) for r in rows], f.type) for f in SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


# -- tiling and writing ---------------------------------------------------------------------
def _chunk(tpl: pa.Table, vary: pa.Array, lo: int, hi: int, seed: int) -> pa.Table:
    """Rows ``lo..hi`` of the month: row i is template row i % R in hour i // R."""
    rows = tpl.num_rows
    index = pl.select(i=pl.int_range(lo, hi, dtype=pl.Int64)).with_columns(
        slot=pl.col("i") % rows, hour=pl.col("i") // rows)
    start = pl.lit(START, pl.Datetime("ms")) + pl.duration(hours=pl.col("hour"))
    times = index.select(s=start, e=start + pl.duration(hours=1)).to_arrow()
    slot = index["slot"].to_arrow()
    table = tpl.take(slot)
    noise = pc.add(pc.random(hi - lo, initializer=seed + lo), 0.5)
    factor = pc.if_else(vary.take(slot), noise, 1.0)
    columns = {
        "line_item_usage_start_date": times.column("s"),
        "line_item_usage_end_date": times.column("e"),
        "identity_time_interval": _intervals().take(index["hour"].to_arrow()),
        "identity_line_item_id": _line_ids(index["i"].to_arrow(), seed + lo),
    }
    for name in VARIED:
        columns[name] = pc.round(pc.multiply(table.column(name), factor), 10)
    for name, array in columns.items():
        table = table.set_column(SCHEMA.get_field_index(name), name, array)
    return table


def _intervals() -> pa.Array:
    hours = [START + timedelta(hours=h) for h in range(HOURS + 1)]
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return pa.array([f"{a:{fmt}}/{b:{fmt}}" for a, b in zip(hours, hours[1:], strict=False)])


def _line_ids(index: pa.Array, seed: int) -> pa.Array:
    """Unique, high-entropy ids like AWS's (they do not compress)."""
    salt = pc.cast(pc.floor(pc.multiply(pc.random(len(index), initializer=seed), 2.0**52)),
                   pa.int64())
    return pc.binary_join_element_wise(pc.cast(index, pa.string()),
                                       pc.cast(salt, pa.string()), "x")


def generate(root: Path, lines: int, *, files: int = 0, seed: int = 7,
             workers: int = 2) -> list[Path]:
    """Write the month below ``root`` (the local 'bucket prefix'); return the data files.

    Chunks are written by ``workers`` processes (Parquet encoding is single-threaded)."""
    files = files or max(1, math.ceil(lines / 1_000_000))
    jobs = [(root, lines, n, files, seed) for n in range(1, files + 1)]
    if workers > 1 and files > 1:
        with ProcessPoolExecutor(workers) as pool:
            paths = list(pool.map(_write_chunk, *zip(*jobs, strict=True)))
    else:
        paths = [_write_chunk(*job) for job in jobs]
    _manifest(root, paths, lines)
    return paths


def _write_chunk(root: Path, lines: int, n: int, files: int, seed: int) -> Path:
    """Chunk ``n`` of ``files`` (1-based); the template is rebuilt (deterministic, ~1 s)."""
    monthly = _monthly()
    per_hour = max(1, math.ceil((lines - len(monthly)) / HOURS))
    specs = _specs(per_hour, random.Random(seed))
    tpl = template([_row(s) for s in specs])
    vary = pa.array([s["role"] in ("s3", "dt") for s in specs])
    tiled = lines - len(monthly)
    lo, hi = tiled * (n - 1) // files, tiled * n // files
    table = _chunk(tpl, vary, lo, hi, seed)
    if n == files:
        table = pa.concat_tables([table, template(monthly)])
    data = root / EXPORT / "data" / f"BILLING_PERIOD={PERIOD}"
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"{EXPORT}-{n:05d}.snappy.parquet"
    pq.write_table(table, path, compression="snappy", row_group_size=262_144)
    return path


def _manifest(root: Path, paths: list[Path], lines: int) -> None:
    meta = root / EXPORT / "metadata" / f"BILLING_PERIOD={PERIOD}"
    meta.mkdir(parents=True, exist_ok=True)
    manifest = {
        "version": "1.0", "exportName": EXPORT, "executionId": "bench-0001",
        "billingPeriod": {"start": f"{START:%Y-%m-%dT%H:%M:%S.000Z}",
                          "end": f"{START + timedelta(hours=HOURS):%Y-%m-%dT%H:%M:%S.000Z}"},
        "bucket": BUCKET, "dataFiles": [
            f"s3://{BUCKET}/cur/{p.relative_to(root).as_posix()}" for p in paths],
        "columns": [{"name": f.name, "type": str(f.type)} for f in SCHEMA],
        "x_synthetic": {"lines": lines, "generator": "benchmarks/cur_month.py"},
    }
    (meta / f"{EXPORT}-Manifest.json").write_text(json.dumps(manifest, indent=2))
