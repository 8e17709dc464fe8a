"""Organisation sizes and the fixed calendar of the synthetic data.

S is the committed demo; M, L and XL are for the scale benchmarks. Every size uses the same
code path, only these knobs change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

PERIOD_START = datetime(2026, 10, 1)
PERIOD_END = datetime(2026, 11, 1)  # billing period end, exclusive
HOURS_IN_PERIOD = int((PERIOD_END - PERIOD_START).total_seconds() // 3600)


@dataclass(frozen=True)
class SizeSpec:
    name: str
    days: int
    teams: int
    namespaces: int  # tenant namespaces across both clusters (system ones come on top)
    replica_slots: int  # long-running pod slots (Deployments/StatefulSets); churn adds pods
    rollouts_per_slot: float  # expected pod replacements per slot over the window
    pods_per_node: int  # packing target that sizes the node pools
    transfer_lines: bool  # hourly data-transfer lines per instance (bulks bills up at L)
    gcp_format: str = "jsonl.gz"  # the GCP export file: jsonl.gz (as extracted) or parquet
    usage_by_day: bool = False  # usage/day=YYYY-MM-DD/<table>.parquet, one directory a day

    @property
    def start(self) -> datetime:
        return PERIOD_START

    @property
    def end(self) -> datetime:
        return PERIOD_START + timedelta(days=self.days)

    @property
    def hours(self) -> int:
        return self.days * 24


SIZES = {
    "S": SizeSpec("S", 31, 8, 30, 72, 0.5, 14, False),
    "M": SizeSpec("M", 7, 20, 300, 2600, 0.15, 30, False, "parquet"),
    "L": SizeSpec("L", 30, 60, 2000, 30000, 0.2, 30, True, "parquet", True),
    "XL": SizeSpec("XL", 30, 100, 4000, 60000, 0.2, 30, True, "parquet", True),
}


def size(name: str) -> SizeSpec:
    try:
        return SIZES[name.upper()]
    except KeyError:
        from models.errors import InputError

        raise InputError(f"unknown size {name!r}; choose one of {', '.join(SIZES)}") from None
