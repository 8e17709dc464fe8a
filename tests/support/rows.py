"""Builders for small, hand-checkable allocation inputs (rows of the warehouse tables):
the engine tests and the pipeline tests build their inputs from these."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

GIB = 1024.0**3
DAY = date(2024, 5, 1)
T0 = datetime(2024, 5, 1)


def labels(**kv: str) -> list[dict[str, str]]:
    return [{"key": k.replace("_", "-") if k != "team" else k, "value": v} for k, v in kv.items()]


def hours(n: int = 24, start: datetime = T0) -> list[datetime]:
    return [start + timedelta(hours=h) for h in range(n)]


def node_rows(node: str, *, cluster: str = "c1", cpu: float = 4, mem_gib: float = 16,
              gpu: float = 0, provider_id: str | None = None, n_hours: int = 24,
              instance_type: str = "m5.xlarge", start: datetime = T0, **extra: Any) -> list[dict]:
    pid = provider_id or f"aws:///us-east-1a/i-{abs(hash(node)) % 10**12:012x}"
    return [dict(cluster=cluster, node=node, hour=h, provider_id=pid, instance_type=instance_type,
                 region="us-east-1", zone="us-east-1a", capacity_cpu=cpu,
                 capacity_memory=mem_gib * GIB, capacity_gpu=gpu, allocatable_cpu=cpu,
                 allocatable_memory=mem_gib * GIB, spot=False, labels=[],
                 running_seconds=3600.0, **extra) for h in hours(n_hours, start)]


def pod_rows(pod: str, node: str, namespace: str, *, cluster: str = "c1", cpu_req: float = 1,
             cpu_use: float = 0.5, mem_req_gib: float = 2, mem_use_gib: float = 1,
             gpu: float = 0, n_hours: int = 24, pod_labels: list | None = None,
             net: float = 0, start: datetime = T0, workload: str | None = None) -> list[dict]:
    return [{"cluster": cluster, "namespace": namespace, "pod": pod, "pod_uid": f"uid-{pod}",
             "hour": h,
                 "node": node, "workload_kind": "Deployment", "workload_name": workload or pod,
                 "running_seconds": 3600.0, "cpu_request": cpu_req, "cpu_usage": cpu_use,
                 "memory_request": mem_req_gib * GIB, "memory_usage": mem_use_gib * GIB,
                 "gpu_request": gpu, "network_bytes": net, "labels": pod_labels or [],
                 "workload_labels": []} for h in hours(n_hours, start)]


def bill_row(resource_id: str | None, cost: float, *, account: str | None = "acct-1",
             day: date = DAY, provider: str = "AWS", **extra: Any) -> dict:
    start = datetime(day.year, day.month, day.day)
    row: dict[str, Any] = {
        "billing_account_id": account, "sub_account_id": account, "provider": provider,
        "billing_currency": "USD",
               "charge_period_start": start, "charge_period_end": start + timedelta(days=1),
               "charge_category": "Usage", "resource_id": resource_id, "service_name": "AmazonEC2",
               "billed_cost": cost, "effective_cost": cost, "list_cost": cost * 1.25,
           "tags": [], "day": day}
    row.update(extra)
    return row


def ns_row(namespace: str, *, cluster: str = "c1", team: str | None = None,
           valid_from: datetime = datetime(2024, 1, 1), valid_to: datetime | None = None,
           annotations: list | None = None) -> dict:
    return {"cluster": cluster, "namespace": namespace, "valid_from": valid_from,
            "valid_to": valid_to,
                "labels": labels(team=team) if team else [], "annotations": annotations or []}
