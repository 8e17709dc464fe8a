"""``governance_report``: every finding over a window, with the tables behind them.

The CLI (``finops governance``), the API (``GET /api/governance``), the dashboard page and
the platform digest all call this on a read-only connection to the published snapshot.
``for_team`` keeps what one team may see: findings about it, its quota ceilings and
coverage, the exemptions over its namespaces.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import polars as pl

from finops.governance import catalog, findings, prices, reads
from finops.governance.findings import Finding
from models.api import Window
from models.config import FinOpsConfig


@dataclass(frozen=True)
class GovernanceReport:
    window: Window
    today: date  # exemptions expire against this day
    currency: str | None
    findings: list[Finding]
    quota_ceilings: list[dict[str, Any]] = field(default_factory=list)  # per team
    namespace_ceilings: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    exemptions: list[dict[str, Any]] = field(default_factory=list)
    catalog_entities: int = 0

    def summary(self) -> dict[str, Any]:
        kinds: dict[str, dict[str, Any]] = {}
        for f in self.findings:
            entry = kinds.setdefault(f.kind, {"count": 0, "amount": 0.0})
            entry["count"] += 1
            entry["amount"] += f.amount
        return {"findings": len(self.findings),
                "by_kind": {k: {"count": v["count"], "amount": round(v["amount"], 2)}
                            for k, v in sorted(kinds.items())},
                "exemptions": len(self.exemptions),
                "expired_exemptions": sum(1 for e in self.exemptions if e["expired"])}

    def as_dict(self) -> dict[str, Any]:
        return {"window": self.window.model_dump(mode="json"), "today": self.today.isoformat(),
                "currency": self.currency, "summary": self.summary(),
                "findings": [f.as_dict() for f in self.findings],
                "quota_ceilings": self.quota_ceilings,
                "namespace_ceilings": self.namespace_ceilings,
                "coverage": [{**c, "day": str(c["day"])} for c in self.coverage],
                "exemptions": self.exemptions, "catalog_entities": self.catalog_entities}

    def for_team(self, team: str) -> GovernanceReport:
        return dataclasses.replace(
            self, findings=[f for f in self.findings if f.team == team],
            quota_ceilings=[r for r in self.quota_ceilings if r["team"] == team],
            namespace_ceilings=[r for r in self.namespace_ceilings if r["team"] == team],
            coverage=[c for c in self.coverage if c["scope"] == "team" and c["name"] == team],
            exemptions=[e for e in self.exemptions if team in e["teams"]])


def governance_report(con: duckdb.DuckDBPyConnection, config: FinOpsConfig, window: Window,
                      today: date) -> GovernanceReport:
    currency = reads.currency(con)
    owners = findings.namespace_owners(reads.namespaces(con, window),
                                       reads.namespace_spend(con, window), config)
    limits = prices.quota_limits(reads.quotas(con, window))
    open_ = findings.unbounded(owners, limits, config, today, currency)
    ceilings = namespace_ceilings(con, config, window, limits, owners)
    per_team = findings.team_ceilings(ceilings, open_, config, window.end)
    exemptions, expired = findings.exemption_rows(config, owners, today, currency)
    entities = reads.entities(con)
    found = [
        *open_, *findings.quota_over_budget(per_team, currency),
        *findings.teams_without_budget(reads.team_spend(con, window), config, currency),
        *findings.budgets_without_spend(
            [(b, reads.budget_spend(con, b, window)) for b in config.budgets], currency),
        *findings.label_breakers(reads.label_breakers(con, window), config, today, currency),
        *catalog.drift(entities, owners, reads.workloads(con, window),
                       reads.running(con, window), config, currency),
        *expired,
    ]
    return GovernanceReport(
        window, today, currency, found, per_team,
        _rounded(ceilings.drop("label_team", "cost", strict=False).to_dicts()),
        findings.coverage_series(reads.coverage(con, window)), exemptions, entities.height)


def namespace_ceilings(con: duckdb.DuckDBPyConnection, config: FinOpsConfig, window: Window,
                       limits: pl.DataFrame, owners: pl.DataFrame) -> pl.DataFrame:
    """Each quota'd namespace's monthly ceiling, with its owner."""
    cost = reads.resource_cost(con, window)
    hours = reads.resource_hours(con, window, config.allocation.basis)
    priced = prices.ceilings(limits, prices.unit_prices(cost, hours),
                             prices.cluster_prices(cost, hours), findings.month_hours(window.end))
    return priced.join(owners.select("cluster", "namespace", "team"),
                       on=["cluster", "namespace"], how="left")


def _rounded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Money to the cent, unit prices to six places (they are fractions of a cent)."""
    def value(key: str, v: Any) -> Any:
        if not isinstance(v, float):
            return v
        return round(v, 6) if key.endswith("_price") else round(v, 2)
    return [{k: value(k, v) for k, v in row.items()} for row in rows]


def last_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The last allocated day (what "to date" means: billing data lags)."""
    found = con.execute("SELECT max(day) FROM allocation").fetchall()[0][0]
    return found if isinstance(found, date) else None


def month_to_date(start: date | None, end: date | None, last: date | None,
                  today: date) -> Window:
    """The default window: the month of ``end`` (default the last allocated day) up to it."""
    end = end or last or today
    return Window(start=start or end.replace(day=1), end=end)
