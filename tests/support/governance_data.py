"""A governance scenario whose quota ceilings, budgets and catalog are checked by hand.

Cluster ``c1``, ten days (2026-10-01..10), money in EUR (currency is data), allocation rows
written directly (no engine), so every figure below is arithmetic:

- ``pay`` (label payments): pod api requests 1 cpu, 2 GiB; costs a day cpu 0.96, ram 0.24
  (0.04 per core-hour, 0.005 per GiB-hour); quota q: requests.cpu 2, requests.memory 4 GiB.
- ``pay-batch`` (payments): pod etl, 0.5 cpu; cpu 0.48 a day; no quota.
- ``srch`` (search): pod web, 2 cpu, 4 GiB; cpu 2.40, ram 0.384 (0.05, 0.004); quota q:
  requests.cpu 4, limits.cpu 8, requests.memory 16 GiB, and quota q2: requests.cpu 6.
- ``lab`` (no label): pod nb, 0.25 cpu; cpu 0.24 a day, unowned ``no-team-label``; no quota.
- ``data-ns`` (data): nothing runs; quota q: requests.cpu 1, requests.memory 1 GiB.

Outside Kubernetes: an RDS instance tagged ml (1.00 a day) and an untagged bucket (0.50).
Budgets: payments 50/month, search 100/month, ghost 75/month (a declared team with no
spend), c2-budget 20/month (filter cluster c2: no such cluster). Exemptions: lab-pilot
(lab*, until 2026-12-31), old-srch (srch, team label only, until 2026-10-05: expired on
the report's day, 2026-11-01). Catalog: pay-svc (namespace pay, payments), srch-web
(namespace srch, owner checkout: a mismatch), old (kubernetes-id gone: nothing runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.settings import Settings
from finops.warehouse import Warehouse
from models.api import Window
from models.config import FinOpsConfig, hash_token, parse_config
from models.loads import IngestRun, Load, Replace
from models.schemas import (
    ALLOCATION,
    BACKSTAGE_ENTITY,
    COST_LINE,
    K8S_NAMESPACE,
    K8S_POD_HOUR,
    K8S_QUOTA_HOUR,
)

GIB = 1024.0**3
DAYS = [date(2026, 10, 1) + timedelta(days=i) for i in range(10)]
WINDOW = Window(start=DAYS[0], end=DAYS[-1])
TODAY = date(2026, 11, 1)
T0 = datetime(2026, 10, 1)
HOURS = [T0 + timedelta(hours=h) for h in range(24 * len(DAYS))]
TOKENS = {"platform": ("gov-plat-1", "platform"), "finance": ("gov-fin-2", "finance"),
          "payments": ("gov-pay-3", "team:payments"), "search": ("gov-srch-4", "team:search")}

# namespace -> (team label, pod, cpu request, GiB request, cpu cost/day, ram cost/day, owner)
PODS = {
    "pay": ("payments", "api", 1.0, 2.0, 0.96, 0.24, "payments"),
    "pay-batch": ("payments", "etl", 0.5, 0.0, 0.48, 0.0, "payments"),
    "srch": ("search", "web", 2.0, 4.0, 2.40, 0.384, "search"),
    "lab": (None, "nb", 0.25, 0.0, 0.24, 0.0, None),
}
LABELS = {"pay": "payments", "pay-batch": "payments", "srch": "search", "lab": None,
          "data-ns": "data"}
QUOTAS = [("pay", "q", "requests.cpu", 2.0), ("pay", "q", "requests.memory", 4 * GIB),
          ("srch", "q", "requests.cpu", 4.0), ("srch", "q", "limits.cpu", 8.0),
          ("srch", "q", "requests.memory", 16 * GIB), ("srch", "q2", "requests.cpu", 6.0),
          ("data-ns", "q", "requests.cpu", 1.0), ("data-ns", "q", "requests.memory", GIB)]
CONFIG: dict[str, Any] = {
    "teams": [{"name": n} for n in ("payments", "search", "data", "ml", "ghost", "checkout")],
    "budgets": [
        {"name": "payments-monthly", "team": "payments", "amount": 50, "currency": "EUR"},
        {"name": "search-monthly", "team": "search", "amount": 100, "currency": "EUR"},
        {"name": "ghost-monthly", "team": "ghost", "amount": 75, "currency": "EUR"},
        {"name": "c2-budget", "filter": {"cluster": "c2"}, "amount": 20, "currency": "EUR"},
    ],
    "governance": {"exemptions": [
        {"name": "lab-pilot", "namespaces": ["lab*"], "who": "ana@example.com",
         "why": "notebook pilot", "until": "2026-12-31"},
        {"name": "old-srch", "namespaces": ["srch"], "policies": ["team-label"],
         "who": "search-lead@example.com", "why": "migration", "until": "2026-10-05"},
    ]},
    "api_tokens": [{"name": name, "sha256": hash_token(token), "role": role}
                   for name, (token, role) in TOKENS.items()],
}
ENTITIES = [("component:default/pay-svc", "Component", "pay-svc", "payments", "pay", None),
            ("component:default/srch-web", "Component", "srch-web", "checkout", "srch", None),
            ("component:default/old", "Component", "old", "payments", None, "gone"),
            ("group:default/payments", "Group", "payments", None, None, None)]


def config() -> FinOpsConfig:
    return parse_config(CONFIG)


def _alloc(day: date, **row: Any) -> dict[str, Any]:
    cost = row.pop("cost")
    return {"day": day, "provider": "AWS", "billing_account_id": "acct", "sub_account_id": "acct",
            "price_source": "bill", "billed_cost": cost, "effective_cost": cost,
            "list_cost": cost, "currency": "EUR", "billing_currency": "EUR",
            "billing_effective_cost": cost, "billing_billed_cost": cost, "billing_list_cost": cost,
            "fx_rate": 1.0, "fx_source": "same-currency", "run_id": "governance", **row}


def allocation() -> pl.DataFrame:
    rows = []
    for day in DAYS:
        for ns, (_, pod, _, _, cpu, ram, team) in PODS.items():
            common = {"cluster": "c1", "namespace": ns, "workload_kind": "Deployment",
                      "workload_name": pod, "team": team,
                      "owner_rule": "namespace-label" if team else None,
                      "unowned_reason": None if team else "no-team-label"}
            rows.append(_alloc(day, cost_kind="cpu", cost=cpu, **common))
            if ram:
                rows.append(_alloc(day, cost_kind="ram", cost=ram, **common))
        rows.append(_alloc(day, cost_kind="cloud", cost=1.00, team="ml", owner_rule="tag",
                           service_name="Amazon RDS", resource_id="db-ml"))
        rows.append(_alloc(day, cost_kind="cloud", cost=0.50, service_name="Amazon S3",
                           resource_id="bucket-x", unowned_reason="untagged-resource"))
    return pl.DataFrame(rows, schema_overrides={"day": pl.Date})


def pod_hours() -> pl.DataFrame:
    return pl.DataFrame([
        {"cluster": "c1", "namespace": ns, "pod": f"{pod}-0", "pod_uid": f"uid-{pod}",
         "hour": hour, "node": "n1", "workload_kind": "Deployment", "workload_name": pod,
         "running_seconds": 3600.0, "cpu_request": cpu, "cpu_usage": cpu / 2,
         "memory_request": gib * GIB, "memory_usage": gib * GIB / 2, "gpu_request": 0.0,
         "labels": [], "workload_labels": []}
        for ns, (_, pod, cpu, gib, *_rest) in PODS.items() for hour in HOURS])


def namespaces() -> pl.DataFrame:
    return pl.DataFrame([
        {"cluster": "c1", "namespace": ns, "valid_from": datetime(2026, 9, 1),
         "labels": [{"key": "team", "value": team}] if team else [], "annotations": []}
        for ns, team in LABELS.items()])


def quotas() -> pl.DataFrame:
    return pl.DataFrame([
        {"cluster": "c1", "namespace": ns, "quota": quota, "resource": resource, "hour": hour,
         "hard": hard, "used": 0.0} for ns, quota, resource, hard in QUOTAS for hour in HOURS])


def entities() -> pl.DataFrame:
    return pl.DataFrame([
        {"ref": ref, "kind": kind, "name": name, "owner": owner, "k8s_namespace": ns,
         "k8s_id": wid, "member_of": [], "members": ["ana"] if kind == "Group" else []}
        for ref, kind, name, owner, ns, wid in ENTITIES], schema=BACKSTAGE_ENTITY.schema)


def bill(alloc: pl.DataFrame) -> pl.DataFrame:
    """One EUR bill line per day carrying the allocated total."""
    per_day = alloc.group_by("day").agg(pl.col("effective_cost").sum()).sort("day")
    start = per_day["day"].cast(pl.Datetime("us"))
    return pl.DataFrame({"billing_account_id": "acct", "sub_account_id": "acct",
                         "provider": "AWS", "billing_currency": "EUR",
                         "charge_period_start": start,
                         "charge_period_end": start + timedelta(days=1),
                         "billed_cost": per_day["effective_cost"],
                         "effective_cost": per_day["effective_cost"], "x_source": "fixture"})


def build(directory: Path) -> tuple[Path, Path]:
    """The published warehouse and the finops.yaml of the scenario."""
    db = directory / "finops.duckdb"
    alloc = allocation()
    replaces = [Replace(table, frame) for table, frame in (
        (COST_LINE, bill(alloc)), (ALLOCATION, alloc), (K8S_POD_HOUR, pod_hours()),
        (K8S_NAMESPACE, namespaces()), (K8S_QUOTA_HOUR, quotas()),
        (BACKSTAGE_ENTITY, entities()))]
    with Warehouse(db) as wh:
        wh.load(Load(IngestRun("governance", "fixture", None, None, []), replaces))
        wh.publish()
    path = directory / "finops.yaml"
    path.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    return db, path


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name][0]}"}


@pytest.fixture(scope="module")
def governance_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app over the scenario (its SQL workers started, as ``finops serve`` starts them)."""
    db, path = build(tmp_path_factory.mktemp("governance-api"))
    with TestClient(create_app(Settings(db=db, config=path))) as client:
        yield client
