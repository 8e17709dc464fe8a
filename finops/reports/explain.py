"""How a team's cost was built, from its allocation rows: direct compute by namespace, shared
charges by origin, idle share, storage/network/LBs, cloud resources, taxes and credits, and
which ownership rule claimed each. ``explain_team`` returns a JSON-able dict (the API's
payload); ``render_text`` turns it into the CLI's text.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from models.currency import DEFAULT_LOCALE, format_money
from models.errors import CurrencyError

COMPUTE = ("cpu", "ram", "gpu")


def _money(frame: pl.DataFrame, by: list[str]) -> list[dict[str, Any]]:
    if not frame.height:
        return []
    grouped = frame.group_by(by).agg(pl.col("effective_cost").sum().round(2),
                                     pl.col("billed_cost").sum().round(2))
    return grouped.sort("effective_cost", descending=True).to_dicts()


def currency_of(rows: pl.DataFrame) -> str | None:
    """The one currency of allocation ``rows`` (None without rows); two is a CurrencyError."""
    found = sorted(c for c in rows.get_column("currency").unique().to_list() if c)
    if len(found) > 1:
        raise CurrencyError(f"the rows are in {' and '.join(found)}, which cannot be added up: "
                            "allocate those days again to convert them to one currency")
    return found[0] if found else None


def explain_team(frame: pl.DataFrame, team: str) -> dict[str, Any]:
    """Break down ``team``'s rows of an allocation frame (any window the caller selected)."""
    rows = frame.filter(pl.col("team") == team)
    kind = pl.col("cost_kind")
    direct = rows.filter(kind.is_in(COMPUTE) & pl.col("shared_from").is_null())
    other_k8s = rows.filter(kind.is_in(["storage", "load_balancer", "network"])
                            | (kind.is_in(COMPUTE) & pl.col("shared_from").is_not_null()))
    days = rows.get_column("day")
    return {
        "team": team,
        "currency": currency_of(rows),
        "start": str(days.min()) if rows.height else None,
        "end": str(days.max()) if rows.height else None,
        "total": round(float(rows.get_column("effective_cost").sum()), 2),
        "billed_total": round(float(rows.get_column("billed_cost").sum()), 2),
        "direct_compute": _money(direct, ["cluster", "namespace", "cost_kind", "owner_rule"]),
        "storage_network_lb": _money(other_k8s, ["cluster", "namespace", "cost_kind",
                                                  "owner_rule"]),
        "shared": _money(rows.filter(kind == "shared"), ["cluster", "shared_from"]),
        "idle": _money(rows.filter(kind == "idle"), ["cluster", "owner_rule"]),
        "cloud": _money(rows.filter(kind.is_in(["cloud", "commitment"])),
                        ["provider", "sub_account_id", "service_name", "owner_rule"]),
        "tax_and_credit": _money(rows.filter(kind.is_in(["tax", "credit"])),
                                 ["cost_kind", "billing_account_id"]),
        "rules": _money(rows, ["owner_rule"]),
        "price_sources": _money(rows, ["price_source"]),
    }


def render_text(report: dict[str, Any], locale: str = DEFAULT_LOCALE) -> str:
    """The CLI text of ``explain_team``: one section per kind of charge."""
    currency = report["currency"]

    def money(amount: float) -> str:
        return format_money(amount, currency, locale)

    lines = [f"Team {report['team']}: {money(report['total'])} effective "
             f"({money(report['billed_total'])} billed), {report['start']}..{report['end']}, "
             f"in {currency}"]
    sections = [("Direct compute by namespace", "direct_compute"),
                ("Storage, network, load balancers", "storage_network_lb"),
                ("Shared charges by origin", "shared"), ("Idle share", "idle"),
                ("Cloud resources", "cloud"), ("Taxes and credits", "tax_and_credit"),
                ("Ownership rules that claimed the cost", "rules"),
                ("Price sources", "price_sources")]
    for title, key in sections:
        items = report[key]
        if not items:
            continue
        lines.append(f"\n{title}:")
        for item in items:
            label = "  ".join(str(v) for k, v in item.items()
                              if k not in ("effective_cost", "billed_cost") and v is not None)
            lines.append(f"  {label or '-':<60} {money(item['effective_cost']):>16}")
    return "\n".join(lines)
