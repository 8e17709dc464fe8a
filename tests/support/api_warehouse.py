"""A small hand-written warehouse for the API and dashboard tests (no engine needed).

Two billing accounts (AWS ``111111111111`` with cluster ``eks-prod``; GCP ``gcp-ba`` with
``gke-prod``), 14 days (2026-10-01..14), teams ``payments`` and ``search`` plus a declared
team ``data`` with no spend, and three kinds of unowned spend. ``payments`` grows in week two
(a top mover). One ``cost_line`` per account and day carries exactly the allocated total, so
``reconciliation`` is zero. Expected dollars in tests are computed from ``SPEC``, the source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import yaml
from fastapi.testclient import TestClient

from finops.api import create_app
from finops.settings import Settings
from finops.warehouse import Warehouse
from models.config import hash_token
from models.loads import IngestRun, Load, Replace
from models.schemas import ALLOCATION, COST_LINE

FIRST_DAY = date(2026, 10, 1)
DAYS = [FIRST_DAY + timedelta(days=i) for i in range(14)]
TOKENS = {
    "finance": ("fin-7f3a", "finance"),
    "platform": ("plat-91bc", "platform"),
    "payments": ("pay-0d2e", "team:payments"),
    "search": ("search-5c44", "team:search"),
    "data": ("data-aa10", "team:data"),
}


@dataclass(frozen=True)
class Line:
    """One allocation row repeated every day (``week2_extra`` added from day 8 on)."""

    provider: str
    account: str
    cost_kind: str
    cost: float
    team: str | None = None
    reason: str | None = None
    cluster: str | None = None
    namespace: str | None = None
    service: str | None = None
    resource: str | None = None
    node: str | None = None
    week2_extra: float = 0.0

    def cost_on(self, day: date) -> float:
        return self.cost + (self.week2_extra if day >= FIRST_DAY + timedelta(days=7) else 0.0)


AWS, GCP = "111111111111", "gcp-ba"
SPEC = [
    Line("aws", AWS, "cpu", 10.37, "payments", cluster="eks-prod", namespace="payments-api",
         node="ip-10-0-1-1", week2_extra=2.11),
    Line("aws", AWS, "ram", 5.13, "payments", cluster="eks-prod", namespace="payments-api",
         node="ip-10-0-1-1"),
    Line("aws", AWS, "cpu", 8.41, "search", cluster="eks-prod", namespace="search",
         node="ip-10-0-1-2"),
    Line("aws", AWS, "cloud", 4.07, "search", service="Amazon RDS",
         resource="arn:aws:rds:us-east-1:111111111111:db:search"),
    Line("aws", AWS, "cpu", 3.19, reason="no-team-label", cluster="eks-prod",
         namespace="sandbox", node="ip-10-0-1-2"),
    Line("aws", AWS, "cloud", 2.23, reason="untagged-resource", service="Amazon S3",
         resource="bucket-logs"),
    Line("gcp", GCP, "cpu", 6.29, "search", cluster="gke-prod", namespace="search-batch",
         node="gke-node-1"),
    Line("gcp", GCP, "idle", 1.54, reason="idle-capacity", cluster="gke-prod",
         node="gke-node-1"),
]


def expected(day_from: date = DAYS[0], day_to: date = DAYS[-1], **match: object) -> float:
    """Sum of the spec's cost over the days, for lines whose fields equal ``match``."""
    total = 0.0
    for line in SPEC:
        if all(getattr(line, k) == v for k, v in match.items()):
            total += sum(line.cost_on(d) for d in DAYS if day_from <= d <= day_to)
    return total


def allocation_frame() -> pl.DataFrame:
    rows = [
        {"day": day, "provider": line.provider, "billing_account_id": line.account,
         "sub_account_id": line.account, "cluster": line.cluster, "namespace": line.namespace,
         "node": line.node, "service_name": line.service, "resource_id": line.resource,
         "cost_kind": line.cost_kind, "team": line.team, "unowned_reason": line.reason,
         "owner_rule": "namespace-label:team" if line.team else None, "price_source": "bill",
         "billed_cost": line.cost_on(day), "effective_cost": line.cost_on(day),
         "list_cost": line.cost_on(day), "run_id": "fixture", "currency": "USD",
         "billing_currency": "USD", "billing_billed_cost": line.cost_on(day),
         "billing_effective_cost": line.cost_on(day), "billing_list_cost": line.cost_on(day),
         "fx_rate": 1.0, "fx_source": "same-currency"}
        for day in DAYS for line in SPEC
    ]
    return pl.DataFrame(rows, schema_overrides={"day": pl.Date})


def cost_line_frame(allocation: pl.DataFrame) -> pl.DataFrame:
    """One bill line per (account, day) with the allocated total: reconciliation is 0."""
    per_day = allocation.group_by("day", "billing_account_id", "provider").agg(
        pl.col("effective_cost").sum()).sort("day", "billing_account_id")
    start = per_day["day"].cast(pl.Datetime("us"))
    return pl.DataFrame({
        "billing_account_id": per_day["billing_account_id"],
        "sub_account_id": per_day["billing_account_id"],
        "provider": per_day["provider"],
        "billing_currency": "USD",
        "charge_period_start": start,
        "charge_period_end": start + timedelta(days=1),
        "billing_period_start": pl.Series([datetime(2026, 10, 1)] * per_day.height),
        "charge_category": "Usage",
        "billed_cost": per_day["effective_cost"],
        "effective_cost": per_day["effective_cost"],
        "list_cost": per_day["effective_cost"],
        "x_source": "fixture",
    })


ALERTS = [  # (alert_key, kind, team, channel): one per team plus the platform digest
    ("budget:payments-monthly:2026-10:actual:50", "budget", "payments", "#payments-costs"),
    ("anomaly:search:2026-10-12", "anomaly", "search", "#finops"),
    ("digest:unowned:2026-W42", "digest", None, "#finops-platform"),
]


def insert_alerts(wh: Warehouse) -> None:
    """Rows in the outbox table (the alerts area's contract, migration 0003)."""
    for i, (key, kind, team, channel) in enumerate(ALERTS):
        payload = json.dumps({"text": f"{kind} alert {key}", "blocks": [], "facts": {}})
        wh.con.execute(
            "INSERT INTO alert_outbox (alert_key, kind, team, channel, payload, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [key, kind, team, channel, payload, datetime(2026, 10, 14, 6, i)])


def write_config(path: Path) -> Path:
    config = {
        "teams": [{"name": "payments", "slack_channel": "#payments-costs"},
                  {"name": "search"}, {"name": "data"}],
        "budgets": [{"name": "payments-monthly", "team": "payments", "amount": 400},
                    {"name": "search-monthly", "team": "search", "amount": 600}],
        "api_tokens": [{"name": name, "sha256": hash_token(token), "role": role}
                       for name, (token, role) in TOKENS.items()],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def build(directory: Path, *, time_limit_ms: int = 1000, max_rows: int = 50) -> Settings:
    """Write finops.yaml, load the warehouse, publish; return settings that point at them."""
    db = directory / "finops.duckdb"
    allocation = allocation_frame()
    with Warehouse(db) as wh:
        run = IngestRun("fixture", "fixture", None, None, [])
        wh.load(Load(run, [Replace(COST_LINE, cost_line_frame(allocation)),
                           Replace(ALLOCATION, allocation)]))
        insert_alerts(wh)
        wh.publish()
    return Settings(db=db, config=write_config(directory / "finops.yaml"),
                    sql={"max_rows": max_rows, "time_limit_ms": time_limit_ms})  # type: ignore[arg-type]


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name][0]}"}


MARKER_RUN = "republish"


def republish(db: Path, marker: float) -> None:
    """Load and publish once more with changed data, as a writer does: one extra ``search``
    row of ``marker`` dollars on the last day (replacing the previous marker row)."""
    row = allocation_frame().filter(pl.col("team") == "search").head(1).with_columns(
        day=pl.lit(DAYS[-1]), effective_cost=pl.lit(float(marker)),
        billed_cost=pl.lit(float(marker)), list_cost=pl.lit(float(marker)),
        run_id=pl.lit(MARKER_RUN))
    with Warehouse(db) as wh:
        wh.load(Load(IngestRun(f"{MARKER_RUN}-{marker}", MARKER_RUN, None, None, []),
                     [Replace(ALLOCATION, row, "run_id = $run", {"run": MARKER_RUN})]))
        wh.publish()


# -- the fixtures of the API and dashboard tests (their conftest.py files import these) -----
@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of this warehouse, built and published once per test module."""
    return build(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    """The app over it, started (so its SQL workers are too)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


NAMESPACE_LABELS = {("eks-prod", "payments-api"): "cc-100", ("eks-prod", "search"): "cc-200",
                    ("gke-prod", "search-batch"): "cc-200"}  # cost-center; sandbox has none


LIST_UPLIFT = 1.25  # list price over effective cost in ``explore_warehouse``


def explore_warehouse(directory: Path) -> Settings:
    """This warehouse for the dashboards' controls: namespaces labelled (``cost-center``),
    and list prices ``LIST_UPLIFT`` times the effective cost (so the metric control changes
    what a page shows)."""
    settings = build(directory)
    with Warehouse(settings.db) as wh:
        wh.con.execute(f"UPDATE allocation SET list_cost = effective_cost * {LIST_UPLIFT}")
        wh.publish(full=True)  # rows changed by SQL, not by a load: no day is marked pending
    add_namespace_labels(settings.db)
    return settings


def add_namespace_labels(db: Path) -> None:
    """Give the namespaces a ``cost-center`` label (``k8s_namespace``) and publish: the
    ``label:<key>`` dimension reads it."""
    with Warehouse(db) as wh:
        for (cluster, namespace), value in NAMESPACE_LABELS.items():
            wh.con.execute(
                "INSERT INTO k8s_namespace (cluster, namespace, valid_from, labels, x_source) "
                "VALUES (?, ?, ?, MAP {'cost-center': ?, 'team': 'x'}, 'fixture')",
                [cluster, namespace, datetime(2026, 9, 1), value])
        wh.publish()
