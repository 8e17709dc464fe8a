"""The Cost Insights plugin's "action items" for a group, from budgets and governance.

A team's: each budget whose actual or forecast crossed a threshold this period, then its
largest governance findings (quota over budget, unbounded namespaces, no budget, expired
exemptions, catalog drift). ``__unallocated__``'s: the month's unlabeled spend by project,
in the shape of the plugin's ``UnlabeledDataflowAlert``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from finops.api import queries
from finops.api.auth import Principal
from finops.api.backstage import UNALLOCATED, with_keys
from finops.api.deps import AppContext
from finops.api.reader import SnapshotReader
from finops.api.routes.budgets import budget_rows
from finops.api.routes.governance import report_for
from finops.governance.findings import money
from models.api import Window
from models.backstage import Alert, AlertData, ProjectCost

FINDINGS = 5


def group_alerts(reader: SnapshotReader, ctx: AppContext, principal: Principal,
                 group: str) -> list[Alert]:
    through = reader.data_through()
    if through is None:
        return []
    if group == UNALLOCATED:
        return [unlabeled(reader, through)]
    return [*budget_alerts(reader, ctx, principal, group, through),
            *finding_alerts(reader, ctx, principal, group)]


def budget_alerts(reader: SnapshotReader, ctx: AppContext, principal: Principal, team: str,
                  through: date) -> list[Alert]:
    url = f"{ctx.settings.api.public_url.rstrip('/')}/dashboards/teams/{team}"
    return [_budget_alert(row, url) for row in budget_rows(reader, ctx.config, principal, through)
            if row["team"] == team and any(t["crossed"] for t in row["thresholds"])]


def _budget_alert(row: dict[str, Any], url: str) -> Alert:
    crossed = [t for t in row["thresholds"] if t["crossed"]]
    top = max(crossed, key=lambda t: t["percent"])
    forecast = row["forecast"].get("point") if row["forecast"].get("ok") else None
    return Alert(
        kind="budget", url=url, buttonText="Open team dashboard",
        title=f"Budget {row['budget']}: {top['kind']} crossed {top['percent']:g}%",
        subtitle=(f"{money(row['actual'], row['currency'])} of "
                  f"{money(row['amount'], row['currency'])} in {row['period_label']} "
                  f"({row['percent_used']:.1f}%); forecast "
                  f"{money(forecast, row['currency'])}"))


def finding_alerts(reader: SnapshotReader, ctx: AppContext, principal: Principal,
                   team: str) -> list[Alert]:
    report = report_for(reader, ctx.config, principal, None, None).for_team(team)
    url = f"{ctx.settings.api.public_url.rstrip('/')}/dashboards/governance"
    ranked = sorted((f for f in report.findings if f.amount > 0), key=lambda f: -f.amount)
    return [Alert(kind="governance", title=f"{f.kind}: {f.subject}", subtitle=f.detail,
                  url=url, buttonText="Open governance")
            for f in ranked[:FINDINGS]]


def unlabeled(reader: SnapshotReader, through: date) -> Alert:
    """The month to date's unlabeled (unowned) and labeled spend per project."""
    window = Window(start=through.replace(day=1), end=through)
    rows = queries.allocation(reader, window, ["team", "cluster", "namespace", "provider",
                                               "sub_account"], "window", None, {})
    rows = with_keys(rows.with_columns(pl.lit(None, pl.String).alias("service")))
    unowned = pl.col("team") == queries.UNOWNED
    by_project = rows.group_by("project").agg(
        pl.col("effective_cost").filter(unowned).sum().alias("unlabeled"),
        pl.col("effective_cost").filter(~unowned).sum().alias("labeled"),
    ).filter(pl.col("unlabeled") != 0).sort("unlabeled", descending=True)
    projects = [ProjectCost(id=p, unlabeledCost=round(u, 2), labeledCost=round(lab, 2))
                for p, u, lab in by_project.rows()]
    total_u = round(float(rows.filter(unowned)["effective_cost"].sum()), 2)
    total_l = round(float(rows.filter(~unowned)["effective_cost"].sum()), 2)
    return Alert(kind="unlabeled", title="Unlabeled spend",
                 subtitle=f"{total_u:,.2f} of {total_u + total_l:,.2f} this month has no "
                          "team (no label, unknown team, untagged or unmapped)",
                 data=AlertData(periodStart=window.start.isoformat(),
                                periodEnd=window.end.isoformat(), projects=projects,
                                unlabeledCost=total_u, labeledCost=total_l))
