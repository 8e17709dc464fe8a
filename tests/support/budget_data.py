"""Spend data for the budget tests, generated (no files): October 2026, team ``payments``
spends a fixed amount per day in two namespaces and one cloud service; some spend is unowned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from typing import Any

import polars as pl

from finops.warehouse import Warehouse
from models.loads import IngestRun, Load, Replace, new_run_id
from models.schemas import ALLOCATION

# (namespace, service, cost_kind) -> dollars per day of team payments; cents on purpose
PAYMENTS_DAILY = {
    ("payments-api", None, "cpu"): 41.37,
    ("payments-db", None, "ram"): 18.05,
    (None, "Amazon RDS", "cloud"): 9.99,
}
UNOWNED_DAILY = {("legacy", "no-team-label"): 3.33, (None, "untagged-resource"): 1.25}
FIRST_DAY, LAST_DAY = date(2026, 10, 1), date(2026, 10, 20)


def days(first: date = FIRST_DAY, last: date = LAST_DAY) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def allocation_rows(first: date = FIRST_DAY, last: date = LAST_DAY,
                    spike: dict[tuple[str | None, str | None, str], float] | None = None,
                    spike_day: date | None = None) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    for day in days(first, last):
        for (namespace, service, kind), cost in PAYMENTS_DAILY.items():
            extra = (spike or {}).get((namespace, service, kind), 0.0) if day == spike_day else 0
            rows.append(_row(day, "payments", namespace, service, kind, cost + extra))
        for (namespace, reason), cost in UNOWNED_DAILY.items():
            service = None if namespace else "Amazon S3"
            row = _row(day, None, namespace, service, "cloud" if service else "cpu", cost)
            rows.append({**row, "unowned_reason": reason})
    return pl.DataFrame(rows, schema_overrides={"day": pl.Date})


def _row(day: date, team: str | None, namespace: str | None, service: str | None, kind: str,
         cost: float) -> dict[str, Any]:
    return {
        "day": day, "provider": "aws", "billing_account_id": "111111111111",
        "sub_account_id": "222222222222", "cluster": "eks-prod" if namespace else None,
        "namespace": namespace, "service_name": service, "cost_kind": kind, "team": team,
        "owner_rule": "namespace-label:team" if team else None, "unowned_reason": None,
        "billed_cost": cost, "effective_cost": cost, "list_cost": cost, "run_id": "test",
        "currency": "USD", "billing_currency": "USD", "billing_billed_cost": cost,
        "billing_effective_cost": cost, "billing_list_cost": cost, "fx_rate": 1.0,
        "fx_source": "same-currency",
    }


CONFIG = {
    "teams": [{"name": "payments", "slack_channel": "#team-payments"},
              {"name": "search"}],
    "budgets": [
        {"name": "payments-monthly", "team": "payments", "period": "month", "amount": 1500},
        {"name": "aws-weekly", "filter": {"provider": "aws"}, "period": "week", "amount": 10000,
         "channel": "#finops-aws"},
    ],
}


def load_allocation(wh: Warehouse, frame: pl.DataFrame) -> None:
    run = IngestRun(new_run_id("test"), "test", None, None, [])
    wh.load(Load(run, [Replace(ALLOCATION, frame, where="true")]))


def held(wh: Warehouse) -> Callable[[], AbstractContextManager[Warehouse]]:
    """A writer for ``finops.alerts.check.check`` over a warehouse the test holds open (the
    real CLI opens and closes the warehouse around each phase instead)."""

    @contextmanager
    def writer() -> Iterator[Warehouse]:
        yield wh

    return writer
