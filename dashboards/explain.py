"""``explain`` on the team page: how the team's cost was built (``finops.reports.explain``'s
dict): the parts by kind of charge, the shared charges by origin, and the ownership rule that
claimed each part, as tables."""

from __future__ import annotations

from typing import Any

from dashboards.pages import downloads
from dashboards.tables import Column, card, table
from models.currency import MoneyFormat

SECTIONS = (("direct compute", "direct_compute"), ("storage, network, load balancers",
                                                   "storage_network_lb"),
            ("shared charges", "shared"), ("idle share", "idle"), ("cloud resources", "cloud"),
            ("taxes and credits", "tax_and_credit"))
MAX_PARTS = 40


def _where(part: dict[str, Any]) -> str:
    keys = ("provider", "sub_account_id", "service_name", "cluster", "namespace",
            "billing_account_id")
    return " / ".join(str(part[k]) for k in keys if part.get(k)) or "—"


def parts(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(title, part) for title, key in SECTIONS for part in report[key]]


def cards(report: dict[str, Any], fmt: MoneyFormat, data_url: str) -> list[str]:
    """The three tables, each with the rows they are summed from (``data_url``); an empty
    window says so."""
    if not report["total"] and not parts(report):
        return [card('<p class="empty">Nothing to explain: no cost in this window.</p>')]
    totals = [[title, fmt(sum(p["effective_cost"] for p in report[key]))]
              for title, key in SECTIONS if report[key]]
    built = table(f"How {report['team']}'s {fmt(report['total'])} was built", [
        Column("kind of charge"), Column("effective cost", True)], totals,
        table_id="explain-kinds")
    shared = table("Shared charges by origin", [Column("cluster"), Column("shared from"),
                                                Column("effective cost", True)],
                   [[str(p["cluster"] or "—"), str(p["shared_from"] or "—"),
                     fmt(p["effective_cost"])] for p in report["shared"]],
                   table_id="explain-shared") if report["shared"] else \
        '<p class="empty">No shared charges in this window.</p>'
    listed = parts(report)
    rules = table(f"Ownership rule per part (largest {min(MAX_PARTS, len(listed))} of "
                  f"{len(listed)})", [Column("part"), Column("where"), Column("kind"),
                                      Column("claimed by rule"), Column("effective cost", True)],
                  [[title, _where(p), str(p.get("cost_kind") or ""),
                    str(p.get("owner_rule") or ("spread" if title == "shared charges" else "—")),
                    fmt(p["effective_cost"])]
                   for title, p in sorted(listed, key=lambda tp: -tp[1]["effective_cost"])
                   [:MAX_PARTS]], table_id="explain-rules")
    files = downloads(data_url)
    return [card(built + files, wide=False), card(shared + files, wide=False),
            card(rules + files)]
