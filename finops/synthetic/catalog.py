"""Real instance types and list prices the synthetic organisation is built from.

Prices are public on-demand list prices (USD per hour or per unit-month) for the regions the
demo uses, as published by AWS (us-east-1), Google Cloud (us-central1) and Azure (eastus) in
2025. The Savings Plan rate is an approximation of a 1-year no-upfront Compute Savings Plan
(about 28% off); it only has to be plausible, the bill and the expected totals agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class InstanceType:
    provider: str
    name: str
    vcpu: int
    memory_gib: float
    hourly: float  # on-demand list price, USD/hour
    family: str

    @property
    def sp_rate(self) -> float:
        """Compute Savings Plan hourly rate (1-year, no upfront), rounded like AWS's rates."""
        return round(self.hourly * 0.72, 4)


AWS_INSTANCES = {
    t.name: t
    for t in (
        InstanceType("aws", "m6i.xlarge", 4, 16, 0.192, "m6i"),
        InstanceType("aws", "m6i.2xlarge", 8, 32, 0.384, "m6i"),
        InstanceType("aws", "r6i.xlarge", 4, 32, 0.252, "r6i"),
        InstanceType("aws", "c6i.2xlarge", 8, 16, 0.34, "c6i"),
        InstanceType("aws", "t3.medium", 2, 4, 0.0416, "t3"),
    )
}

# GCE bills an instance as two SKUs (cores and memory); prices per vCPU-hour / GiB-hour.
GCE_CORE_HOUR = {"n2": 0.031611, "e2": 0.021811}
GCE_RAM_GIB_HOUR = {"n2": 0.004237, "e2": 0.002923}
GCE_SKUS = {
    ("n2", "core"): ("BB77-5FDA-5C3F", "N2 Instance Core running in Americas"),
    ("n2", "ram"): ("7B45-6F20-4B60", "N2 Instance Ram running in Americas"),
    ("e2", "core"): ("CF4E-A0C7-E3BF", "E2 Instance Core running in Americas"),
    ("e2", "ram"): ("F449-33EC-A5EF", "E2 Instance Ram running in Americas"),
}
GCE_INSTANCES = {
    t.name: t
    for t in (
        InstanceType("gcp", "n2-standard-8", 8, 32, 8 * 0.031611 + 32 * 0.004237, "n2"),
        InstanceType("gcp", "n2-standard-4", 4, 16, 4 * 0.031611 + 16 * 0.004237, "n2"),
        InstanceType("gcp", "e2-standard-4", 4, 16, 4 * 0.021811 + 16 * 0.002923, "e2"),
    )
}

# N2 sustained-use discount: the price multiplier of each quarter of the month's usage.
N2_SUD_TIERS = (1.0, 0.8678, 0.7335, 0.6)


def sustained_use_discount(fraction_of_month: float) -> float:
    """Average N2 sustained-use discount for an instance that ran this fraction of the month."""
    fraction = min(max(fraction_of_month, 0.0), 1.0)
    if fraction == 0:
        return 0.0
    paid, left = 0.0, fraction
    for multiplier in N2_SUD_TIERS:
        step = min(left, 0.25)
        paid += step * multiplier
        left -= step
    return 1.0 - paid / fraction


# Other list prices (USD).
EKS_CLUSTER_HOUR = 0.10
GKE_CLUSTER_HOUR = 0.10
NLB_HOUR = 0.0225
EBS_GP3_GB_MONTH = 0.08
GCE_PD_BALANCED_GB_MONTH = 0.10
RDS_INSTANCES = {"db.r6g.large": 0.225, "db.m6g.large": 0.159}
RDS_GP3_GB_MONTH = 0.115
S3_STANDARD_GB_MONTH = 0.023
CLOUD_SQL_VCPU_HOUR = 0.0413
CLOUD_SQL_RAM_GIB_HOUR = 0.007
GCS_STANDARD_GB_MONTH = 0.020
AZURE_VMS = {"Standard_D4s_v5": 0.192, "Standard_B2ms": 0.0832}
AZURE_P10_MONTH = 19.71  # Premium SSD P10 (128 GiB) managed disk, per disk-month
AZURE_BLOB_HOT_GB_MONTH = 0.0184
AWS_SALES_TAX_RATE = 0.06
