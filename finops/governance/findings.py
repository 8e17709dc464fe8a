"""Findings, each with the money at stake: frames in (``reads``), findings out (pure).

Kinds: ``unbounded-namespace`` (a tenant namespace no ResourceQuota bounds, and what ran in
it), ``quota-over-budget`` (a team's quotas allow more a month than its budget),
``team-without-budget``, ``budget-without-spend``, ``unlabeled-workload`` and
``untagged-resource`` (what breaks label coverage), the catalog drift kinds of ``catalog``,
and ``exemption-expired``.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import polars as pl

from finops.allocation.ownership import canonical
from finops.allocation.rows import map_value
from finops.governance.scope import covers, exemption_for, expired, is_tenant
from models.config import Budget, FinOpsConfig

FINDING_KINDS = (
    "unbounded-namespace", "quota-over-budget", "team-without-budget", "budget-without-spend",
    "unlabeled-workload", "untagged-resource", "catalog-owner-mismatch",
    "component-without-workload", "workload-without-entity", "exemption-expired",
)


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str  # what it is about: "prod-eks/sandbox", "team payments", "budget x"
    detail: str  # one sentence a person reads
    amount: float  # the money at stake, in ``currency``
    currency: str | None
    team: str | None = None  # the team it concerns (a team token sees its own only)
    cluster: str | None = None
    namespace: str | None = None
    exemption: str | None = None  # the exemption in force that covers it

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "amount": round(self.amount, 2)}


def money(amount: float | None, currency: str | None) -> str:
    """``1,234.50 USD``: the currency is data, never a symbol."""
    if amount is None:
        return "n/a"
    return f"{amount:,.2f} {currency or ''}".rstrip()


def month_hours(day: date) -> float:
    """Hours in the calendar month of ``day``."""
    return 24.0 * monthrange(day.year, day.month)[1]


def monthly(budget: Budget, day: date) -> float:
    """A budget's amount for the month of ``day`` (a week's scaled by the month's days, a
    quarter's divided by three)."""
    if budget.period == "week":
        return budget.amount * monthrange(day.year, day.month)[1] / 7.0
    return budget.amount / 3.0 if budget.period == "quarter" else budget.amount


# -- namespaces and their owners -----------------------------------------------------------

def namespace_owners(namespaces: pl.DataFrame, spend: pl.DataFrame,
                     config: FinOpsConfig) -> pl.DataFrame:
    """cluster, namespace, label_team (the team its own label, else annotation, names),
    team (who owns most of its spend, else label_team), cost (all its spend)."""
    keys = config.ownership.label_keys
    labelled = namespaces.with_columns(
        pl.coalesce(canonical(map_value("labels", keys), config),
                    canonical(map_value("annotations", keys), config)).alias("label_team"))
    owned = spend.filter(pl.col("team").is_not_null()).sort("cost", descending=True)
    top = owned.group_by("cluster", "namespace").agg(pl.col("team").first())
    cost = spend.group_by("cluster", "namespace").agg(pl.col("cost").sum())
    return labelled.select("cluster", "namespace", "label_team").join(
        top, on=["cluster", "namespace"], how="full", coalesce=True).join(
        cost, on=["cluster", "namespace"], how="left").with_columns(
        pl.coalesce("team", "label_team").alias("team"), pl.col("cost").fill_null(0.0))


def unbounded(owners: pl.DataFrame, limits: pl.DataFrame, config: FinOpsConfig, today: date,
              currency: str | None) -> list[Finding]:
    """Tenant namespaces no ResourceQuota bounds (none, or none limiting CPU and memory)."""
    bounded = limits.filter(pl.col("hard_cpu").is_not_null()
                            & pl.col("hard_memory").is_not_null())
    open_ = owners.join(bounded, on=["cluster", "namespace"], how="anti")
    has_quota = set(limits.select("cluster", "namespace").iter_rows())
    out = []
    for row in open_.sort("cost", "cluster", "namespace", descending=[True, False, False]) \
            .iter_rows(named=True):
        if not is_tenant(config, row["namespace"]):
            continue
        why = ("its ResourceQuota sets no CPU or memory limit"
               if (row["cluster"], row["namespace"]) in has_quota else "no ResourceQuota")
        exempt = exemption_for(config, row["cluster"], row["namespace"], "resource-quota", today)
        out.append(Finding(
            "unbounded-namespace", f"{row['cluster']}/{row['namespace']}",
            f"{why}: nothing caps its spend; {money(row['cost'], currency)} ran in it",
            row["cost"], currency, row["team"], row["cluster"], row["namespace"],
            exempt.name if exempt else None))
    return out


# -- quota ceilings against budgets ----------------------------------------------------------

def team_budgets(config: FinOpsConfig, day: date) -> dict[str, float]:
    """Each team's monthly budget: the sum of its team-scoped budgets without filters."""
    out: dict[str, float] = {}
    for budget in config.budgets:
        if budget.team and not budget.filter:
            out[budget.team] = out.get(budget.team, 0.0) + monthly(budget, day)
    return out


def team_ceilings(ceilings: pl.DataFrame, unbounded_found: list[Finding],
                  config: FinOpsConfig, day: date) -> list[dict[str, Any]]:
    """Per team: the sum of its namespaces' ceilings, its unbounded namespaces, its budget."""
    budgets = team_budgets(config, day)
    sums = ceilings.filter(pl.col("team").is_not_null()).group_by("team").agg(
        pl.col("ceiling").sum(), pl.len().alias("namespaces"),
        pl.col("ceiling").is_null().sum().alias("unpriced"))
    open_by_team: dict[str, int] = {}
    for finding in unbounded_found:
        if finding.team:
            open_by_team[finding.team] = open_by_team.get(finding.team, 0) + 1
    found = {r["team"]: r for r in sums.iter_rows(named=True)}
    return [{"team": team, "ceiling_monthly": round(found[team]["ceiling"], 2)
             if team in found else None,
             "quota_namespaces": found[team]["namespaces"] if team in found else 0,
             "unpriced_namespaces": found[team]["unpriced"] if team in found else 0,
             "unbounded_namespaces": open_by_team.get(team, 0),
             "budget_monthly": round(budgets[team], 2) if team in budgets else None}
            for team in sorted(set(found) | set(open_by_team) | set(budgets))]


def quota_over_budget(rows: list[dict[str, Any]], currency: str | None) -> list[Finding]:
    out = []
    for row in rows:
        ceiling, budget = row["ceiling_monthly"], row["budget_monthly"]
        if ceiling is None or budget is None or ceiling <= budget:
            continue
        extra = (f"; {row['unbounded_namespaces']} more namespace(s) have no bound at all"
                 if row["unbounded_namespaces"] else "")
        out.append(Finding(
            "quota-over-budget", f"team {row['team']}",
            f"quota allows {money(ceiling, currency)}/month, budget is "
            f"{money(budget, currency)}{extra}", ceiling - budget, currency, row["team"]))
    return out


# -- budgets and spend -------------------------------------------------------------------------

def teams_without_budget(team_spend: pl.DataFrame, config: FinOpsConfig,
                         currency: str | None) -> list[Finding]:
    budgeted = {b.team for b in config.budgets if b.team}
    return [Finding("team-without-budget", f"team {r['team']}",
                    f"{money(r['cost'], currency)} of spend and no budget", r["cost"],
                    currency, r["team"])
            for r in team_spend.sort("cost", descending=True).iter_rows(named=True)
            if r["team"] not in budgeted and r["cost"] > 0]


def budgets_without_spend(spent: list[tuple[Budget, float]],
                          currency: str | None) -> list[Finding]:
    return [Finding("budget-without-spend", f"budget {b.name}",
                    f"its scope saw no spend; {money(b.amount, b.currency)} per {b.period} "
                    "budgeted for nothing (a renamed team or a stale filter?)",
                    b.amount, b.currency, b.team)
            for b, cost in spent if abs(cost) < 0.005]


# -- label coverage --------------------------------------------------------------------------

def label_breakers(breakers: pl.DataFrame, config: FinOpsConfig, today: date,
                   currency: str | None) -> list[Finding]:
    """What no label claims: workloads (or a namespace's own rows), then cloud resources."""
    return [_breaker(row, config, today, currency) for row in breakers.iter_rows(named=True)]


def _breaker(row: dict[str, Any], config: FinOpsConfig, today: date,
             currency: str | None) -> Finding:
    cost, reason = row["cost"], row["reason"]
    if row["namespace"] is not None:
        what = row["workload_name"] or "(namespace's own share)"
        exempt = exemption_for(config, row["cluster"], row["namespace"], "team-label", today)
        return Finding("unlabeled-workload", f"{row['cluster']}/{row['namespace']}/{what}",
                       f"{reason}: {money(cost, currency)} no team owns",
                       cost, currency, None, row["cluster"], row["namespace"],
                       exempt.name if exempt else None)
    subject = row["resource_id"] or row["service_name"] or row["sub_account_id"] or "?"
    return Finding("untagged-resource", f"{row['provider']}/{subject}",
                   f"{reason} ({row['service_name'] or 'unknown service'}, account "
                   f"{row['sub_account_id']}): {money(cost, currency)} no team owns",
                   cost, currency)


def coverage_series(coverage: pl.DataFrame) -> list[dict[str, Any]]:
    """Label coverage per day, by cluster (everything run there) and by team (what it owns):
    the share of spend a label or tag claimed."""
    def share(by: str, scope: str) -> pl.DataFrame:
        frame = coverage.filter(pl.col(by).is_not_null()) if by == "team" else coverage
        return frame.group_by("day", by).agg(pl.col("cost").sum(), pl.col("labelled").sum()) \
            .select("day", pl.lit(scope).alias("scope"), pl.col(by).alias("name"),
                    pl.col("cost").round(2), pl.col("labelled").round(2),
                    (pl.col("labelled") / pl.col("cost")).round(4).alias("share"))
    if not coverage.height:
        return []
    both = pl.concat([share("cluster", "cluster"), share("team", "team")])
    return both.sort("scope", "name", "day").to_dicts()


# -- exemptions ------------------------------------------------------------------------------

def exemption_rows(config: FinOpsConfig, owners: pl.DataFrame, today: date,
                   currency: str | None) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Each declared exemption with what ran under it; an expired one is also a finding."""
    rows, out = [], []
    for e in config.governance.exemptions:
        hit = [r for r in owners.iter_rows(named=True) if covers(e, r["cluster"], r["namespace"])]
        cost = sum(r["cost"] for r in hit)
        teams = sorted({r["team"] for r in hit if r["team"]})
        rows.append({**e.model_dump(mode="json"), "expired": expired(e, today),
                     "spend": round(cost, 2), "currency": currency, "teams": teams})
        if expired(e, today):
            out.append(Finding(
                "exemption-expired", f"exemption {e.name}",
                f"expired {e.until} (asked by {e.who}: {e.why}); {money(cost, currency)} "
                f"ran in {len(hit)} namespace(s) it named", cost, currency,
                teams[0] if len(teams) == 1 else None))
    return rows, out
