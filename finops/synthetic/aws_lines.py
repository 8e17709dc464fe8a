"""CUR 2.0 line items of one day, as Polars frames (one builder per kind of charge).

Every builder returns CUR-named columns plus ``_effective`` (the amortized cost, FOCUS
EffectiveCost) that the writer accumulates into the expected totals and then drops.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from finops.synthetic import accounts as acc
from finops.synthetic import catalog as cat
from finops.synthetic.intervals import listed
from finops.synthetic.model import CloudResource
from finops.synthetic.spec import HOURS_IN_PERIOD

HOUR = pl.duration(hours=1)
LOCATION = "US East (N. Virginia)"
NORMALIZATION = {"medium": 2.0, "large": 4.0, "xlarge": 8.0, "2xlarge": 16.0}
SP_ARN = f"arn:aws:savingsplans::{acc.AWS_PROD[0]}:savingsplan/5d3c8e1a-7b2f-4c9d-a6e4-0f1b2c3d4e5f"


def _tags(pairs: dict[str, str]) -> pl.Expr:
    return pl.lit([{"key": k, "value": v} for k, v in pairs.items()],
                  pl.List(pl.Struct({"key": pl.String, "value": pl.String})))


def _money(expr: pl.Expr) -> pl.Expr:
    return expr.round(10)


def base(account: tuple[str, str], product: str, usage_type: str, operation: str,
         line_type: str = "Usage") -> dict[str, pl.Expr]:
    return {
        "line_item_usage_account_id": pl.lit(account[0]),
        "line_item_usage_account_name": pl.lit(account[1]),
        "line_item_product_code": pl.lit(product),
        "product_servicecode": pl.lit(product),
        "line_item_usage_type": pl.lit(usage_type),
        "product_usagetype": pl.lit(usage_type),
        "line_item_operation": pl.lit(operation),
        "product_operation": pl.lit(operation),
        "line_item_line_item_type": pl.lit(line_type),
        "product_region_code": pl.lit(acc.AWS_REGION),
        "product_location": pl.lit(LOCATION),
        "product_location_type": pl.lit("AWS Region"),
    }


def priced(amount: pl.Expr, rate: pl.Expr, unit: str) -> dict[str, pl.Expr]:
    cost = _money(amount * rate)
    return {"line_item_usage_amount": amount, "line_item_unblended_rate": rate.cast(pl.String),
            "line_item_blended_rate": rate.cast(pl.String), "line_item_unblended_cost": cost,
            "line_item_blended_cost": cost, "line_item_net_unblended_cost": cost,
            "pricing_public_on_demand_rate": rate.cast(pl.String),
            "pricing_public_on_demand_cost": cost, "pricing_term": pl.lit("OnDemand"),
            "pricing_unit": pl.lit(unit), "product_pricing_unit": pl.lit(unit),
            "_effective": cost}


def hours(frame: pl.DataFrame) -> dict[str, pl.Expr]:
    return {"line_item_usage_start_date": pl.col("hour"),
            "line_item_usage_end_date": pl.col("hour") + HOUR}


def ec2_nodes(node_hours: pl.DataFrame, commitment: float) -> pl.DataFrame:
    """Instance hours of the EKS nodes, with the Savings Plan applied hour by hour."""
    aws = node_hours.filter(pl.col("provider_id").str.starts_with("aws://"))
    if aws.is_empty():
        return pl.DataFrame()
    rates = pl.DataFrame({"instance_type": list(cat.AWS_INSTANCES),
                          "sp_rate": [t.sp_rate for t in cat.AWS_INSTANCES.values()]})
    lines = aws.join(rates, on="instance_type", maintain_order="left") \
        .sort("hour", "instance_id").with_columns(amount=pl.col("running_seconds") / 3600)
    sp_cost = pl.col("amount") * pl.col("sp_rate")
    before = sp_cost.cum_sum().over("hour") - sp_cost
    covered = pl.min_horizontal(pl.max_horizontal(pl.lit(commitment) - before, pl.lit(0.0)),
                                sp_cost)
    lines = lines.with_columns(frac=pl.when(sp_cost > 0).then(covered / sp_cost).otherwise(0.0))
    return pl.concat([_ec2(lines, "covered"), _ec2(lines, "negation"), _ec2(lines, "usage")],
                     how="diagonal_relaxed")


def _ec2(lines: pl.DataFrame, part: str) -> pl.DataFrame:
    size = pl.col("instance_type").str.split(".").list.last()
    if part == "usage":
        rows = lines.filter(pl.col("frac") < 1).with_columns(
            amount=pl.col("amount") * (1 - pl.col("frac")))
    else:
        rows = lines.filter(pl.col("frac") > 0).with_columns(
            amount=pl.col("amount") * pl.col("frac"))
    line_type = {"usage": "Usage", "covered": "SavingsPlanCoveredUsage",
                 "negation": "SavingsPlanNegation"}[part]
    cols = base(acc.AWS_PROD, "AmazonEC2", "", "RunInstances", line_type)
    cols.update(priced(pl.col("amount"), pl.col("hourly"), "Hrs"))
    cols.update(hours(rows))
    cols.update({
        "line_item_usage_type": pl.format("BoxUsage:{}", pl.col("instance_type")),
        "product_usagetype": pl.format("BoxUsage:{}", pl.col("instance_type")),
        "line_item_resource_id": pl.col("instance_id"),
        "line_item_availability_zone": pl.col("zone"),
        "line_item_normalization_factor": size.replace_strict(NORMALIZATION, default=8.0),
        "line_item_line_item_description": pl.format(
            "${} per On Demand Linux {} Instance Hour", pl.col("hourly"), pl.col("instance_type")),
        "product_instance_type": pl.col("instance_type"),
        "product_instance_family": pl.lit("General purpose"),
        "product_product_family": pl.lit("Compute Instance"),
        "resource_tags": listed(
            pl.struct(key=pl.lit("user_eks_cluster_name"), value=pl.col("cluster")),
            pl.struct(key=pl.lit("user_eks_nodegroup_name"), value=pl.col("pool"))),
    })
    if part != "usage":
        sp_cost = _money(pl.col("amount") * pl.col("sp_rate"))
        cols.update({
            "savings_plan_savings_plan_a_r_n": pl.lit(SP_ARN),
            "savings_plan_savings_plan_rate": pl.col("sp_rate"),
            "savings_plan_savings_plan_effective_cost": sp_cost,
            "savings_plan_net_savings_plan_effective_cost": sp_cost,
            "_effective": sp_cost if part == "covered" else pl.lit(0.0),
        })
    if part == "negation":
        od = _money(pl.col("amount") * pl.col("hourly"))
        cols.update({
            "line_item_unblended_cost": -od, "line_item_blended_cost": -od,
            "line_item_net_unblended_cost": -od, "pricing_public_on_demand_cost": pl.lit(0.0),
            "savings_plan_savings_plan_effective_cost": pl.lit(None, pl.Float64),
            "savings_plan_net_savings_plan_effective_cost": pl.lit(None, pl.Float64),
            "line_item_line_item_description": pl.format(
                "SavingsPlanNegation used by AccountId : {} and UsageSku : {}",
                pl.lit(acc.AWS_PROD[0]), pl.col("instance_type")),
        })
    frame = rows.select(**cols)
    return frame.with_columns(line_item_normalized_usage_amount=(
        pl.col("line_item_usage_amount") * pl.col("line_item_normalization_factor")))


def sp_fee(node_lines: pl.DataFrame, lo: datetime, hi: datetime,
           commitment: float) -> pl.DataFrame:
    """SavingsPlanRecurringFee: the hourly commitment; its effective cost is what went unused."""
    used = node_lines.filter(pl.col("line_item_line_item_type") == "SavingsPlanCoveredUsage") \
        .group_by(hour="line_item_usage_start_date", maintain_order=True) \
        .agg(used=pl.col("savings_plan_savings_plan_effective_cost").sum())
    grid = pl.DataFrame({"hour": pl.datetime_range(lo, hi, "1h", closed="left", time_unit="us",
                                                   eager=True)})
    grid = grid.join(used.with_columns(pl.col("hour").cast(pl.Datetime("us"))), on="hour",
                     how="left", maintain_order="left") \
        .with_columns(used=pl.col("used").fill_null(0.0).round(10))
    cols = base(acc.AWS_PROD, "ComputeSavingsPlans", "ComputeSP:1yrNoUpfront", "",
                "SavingsPlanRecurringFee")
    cols.update(priced(pl.lit(1.0), pl.lit(commitment), "Hrs"))
    cols.update(hours(grid))
    cols.update({
        "line_item_resource_id": pl.lit(SP_ARN),
        "line_item_line_item_description": pl.lit(
            f"1 year No Upfront Compute Savings Plan with ${commitment} hourly commitment"),
        "pricing_public_on_demand_cost": pl.lit(0.0),
        "savings_plan_savings_plan_a_r_n": pl.lit(SP_ARN),
        "savings_plan_total_commitment_to_date": pl.lit(commitment),
        "savings_plan_used_commitment": pl.col("used"),
        "savings_plan_recurring_commitment_for_billing_period": pl.lit(
            round(commitment * HOURS_IN_PERIOD, 2)),
        "savings_plan_amortized_upfront_commitment_for_billing_period": pl.lit(0.0),
        "savings_plan_offering_type": pl.lit("ComputeSavingsPlans"),
        "savings_plan_payment_option": pl.lit("No Upfront"),
        "savings_plan_purchase_term": pl.lit("1yr"),
        "savings_plan_region": pl.lit("Any"),
        "savings_plan_start_time": pl.lit("2026-03-01T00:00:00.000Z"),
        "savings_plan_end_time": pl.lit("2027-03-01T00:00:00.000Z"),
        "_effective": _money(pl.lit(commitment) - pl.col("used")),
    })
    return grid.select(**cols)


def hourly_service(rows: pl.DataFrame, account: tuple[str, str], product: str,
                   usage_type: str, operation: str, rate: float, unit: str,
                   amount: pl.Expr, description: str, extra: dict[str, pl.Expr]) -> pl.DataFrame:
    cols = base(account, product, usage_type, operation)
    cols.update(priced(amount, pl.lit(rate), unit))
    cols.update(hours(rows))
    cols["line_item_line_item_description"] = pl.lit(description)
    cols.update(extra)
    return rows.select(**cols)


def eks_fee(grid: pl.DataFrame) -> pl.DataFrame:
    arn = f"arn:aws:eks:{acc.AWS_REGION}:{acc.AWS_PROD[0]}:cluster/{acc.EKS_CLUSTER}"
    return hourly_service(grid, acc.AWS_PROD, "AmazonEKS", "USE1-AmazonEKS-Hours:perCluster",
                          "CreateOperation", cat.EKS_CLUSTER_HOUR, "Hours", pl.lit(1.0),
                          "Amazon EKS cluster usage in US East (N. Virginia)",
                          {"line_item_resource_id": pl.lit(arn)})


def nlb(lb_hours: pl.DataFrame) -> pl.DataFrame:
    tags = listed(
        pl.struct(key=pl.lit("user_kubernetes_io_service_name"),
                  value=pl.format("{}/{}", pl.col("namespace"), pl.col("service"))),
        pl.struct(key=pl.lit("user_kubernetes_io_cluster_prod_eks"), value=pl.lit("owned")))
    return hourly_service(lb_hours, acc.AWS_PROD, "AWSELB", "USE1-LoadBalancerUsage",
                          "LoadBalancing:Network", cat.NLB_HOUR, "Hrs",
                          pl.col("running_seconds") / 3600,
                          "$0.0225 per Network LoadBalancer-hour (or partial hour)",
                          {"line_item_resource_id": pl.col("resource_id"),
                           "product_product_family": pl.lit("Load Balancer-Network"),
                           "resource_tags": tags})


def ebs(volume_hours: pl.DataFrame) -> pl.DataFrame:
    rows = volume_hours.filter(pl.col("volume_id").str.starts_with("vol-"))
    def tag(key: str, value: pl.Expr) -> pl.Expr:
        return pl.struct(key=pl.lit(key), value=value)
    tags = listed(
        tag("user_kubernetes_io_created_for_pv_name", pl.col("volume_name")),
        tag("user_kubernetes_io_created_for_pvc_namespace",
            pl.col("namespace").fill_null("reports-legacy")),
        tag("user_kubernetes_io_created_for_pvc_name",
            pl.col("claim").fill_null("data-report-builder-0")),
        tag("user_ebs_csi_aws_com_cluster", pl.lit("true")))
    amount = pl.col("size_gib") * pl.col("running_seconds") / (3600 * HOURS_IN_PERIOD)
    return hourly_service(rows, acc.AWS_PROD, "AmazonEC2", "EBS:VolumeUsage.gp3",
                          "CreateVolume-Gp3", cat.EBS_GP3_GB_MONTH, "GB-Mo", amount,
                          "$0.08 per GB-month of General Purpose (gp3) provisioned storage",
                          {"line_item_resource_id": pl.col("volume_id"),
                           "line_item_availability_zone": pl.col("zone"),
                           "product_product_family": pl.lit("Storage"), "resource_tags": tags})


def _account(resource: CloudResource) -> tuple[str, str]:
    return acc.AWS_PROD if resource.account == acc.AWS_PROD[0] else acc.AWS_SANDBOX


def cloud(resources: list[CloudResource], grid: pl.DataFrame, day: pl.DataFrame) -> list:
    """RDS and sandbox EC2 by the hour, S3 storage by the day."""
    out = []
    for res in resources:
        if res.provider != "aws":
            continue
        tags = {"resource_tags": _tags(dict(res.tags)),
                "line_item_resource_id": pl.lit(res.resource_id)}
        account = _account(res)
        if res.kind == "rds":
            klass, gb = res.size.split(":")
            out.append(hourly_service(grid, account, "AmazonRDS", f"InstanceUsage:{klass}",
                                      "CreateDBInstance:0014", cat.RDS_INSTANCES[klass], "Hrs",
                                      pl.lit(1.0), f"RDS for PostgreSQL {klass} instance hour",
                                      {**tags, "product_product_family":
                                       pl.lit("Database Instance")}))
            out.append(hourly_service(grid, account, "AmazonRDS", "RDS:GP3-Storage",
                                      "CreateDBInstance:0014", cat.RDS_GP3_GB_MONTH, "GB-Mo",
                                      pl.lit(float(gb) / HOURS_IN_PERIOD),
                                      "Storage for PostgreSQL gp3", tags))
        elif res.kind == "ec2":
            rate = cat.AWS_INSTANCES[res.size].hourly
            out.append(hourly_service(grid, account, "AmazonEC2", f"BoxUsage:{res.size}",
                                      "RunInstances", rate, "Hrs", pl.lit(1.0),
                                      f"${rate} per On Demand Linux {res.size} Instance Hour",
                                      {**tags, "product_instance_type": pl.lit(res.size)}))
        elif res.kind == "s3":
            out.append(hourly_service(day, account, "AmazonS3", "TimedStorage-ByteHrs",
                                      "StandardStorage", cat.S3_STANDARD_GB_MONTH, "GB-Mo",
                                      pl.lit(float(res.size) * 24 / HOURS_IN_PERIOD),
                                      "$0.023 per GB - first 50 TB / month of storage used",
                                      {**tags, "line_item_usage_end_date":
                                       pl.col("hour") + pl.duration(days=1)}))
    return out


def transfer(node_hours: pl.DataFrame) -> pl.DataFrame:
    """Regional data transfer per instance-hour (only the large sizes use it, to bulk up)."""
    rows = node_hours.filter(pl.col("provider_id").str.starts_with("aws://"))
    amount = (pl.col("running_seconds") / 3600 * 0.7).round(6)
    return hourly_service(rows, acc.AWS_PROD, "AWSDataTransfer", "USE1-DataTransfer-Regional-Bytes",
                          "InterZone-In", 0.01, "GB", amount,
                          "$0.010 per GB - regional data transfer - in/out/between EC2 AZs",
                          {"line_item_resource_id": pl.col("instance_id")})
