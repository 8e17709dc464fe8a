"""The cards of the unowned page (``/dashboards/unowned``) for any role: the totals, the
spend by reason (and per day, for organisation views) and the actionable items
(``dashboards.unowned``). A team lead's page holds only the items inside its own namespaces
and accounts (``finops.api.unowned_items``), and its totals are theirs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

import polars as pl

from dashboards import figures, pages
from dashboards import unowned as table_parts
from finops.api import queries, unowned_items
from finops.api.auth import Principal
from finops.api.reader import SnapshotReader
from models.api import Window
from models.config import FinOpsConfig
from models.currency import MoneyFormat
from models.errors import InputError

OWN = ("sort", "order", "reason", "q", "page", "per_page")  # this page's own parameters


def state_of(params: Mapping[str, str]) -> dict[str, Any]:
    """The table's state from the query (sort, order, reason, text, page, rows per page)."""
    def number(name: str, default: int) -> int:
        try:
            return int(params.get(name) or default)
        except ValueError:
            raise InputError(f"{name} {params.get(name)!r}: expected a whole number") from None
    order = params.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise InputError(f"order {order!r}: expected asc or desc")
    return {"sort": params.get("sort") or "cost", "order": order,
            "reason": params.get("reason") or None, "q": params.get("q") or None,
            "page": number("page", 1), "per_page": number("per_page", 50)}


def by_reason(rows: list[dict[str, Any]]) -> pl.DataFrame:
    frame = pl.DataFrame({"name": [r["reason"] for r in rows],
                          "effective_cost": [r["effective_cost"] for r in rows]},
                         schema={"name": pl.String, "effective_cost": pl.Float64})
    return frame.group_by("name").agg(pl.col("effective_cost").sum()).sort(
        "effective_cost", descending=True)


def cards(principal: Principal, config: FinOpsConfig, reader: SnapshotReader, window: Window,
          params: Mapping[str, str], fmt: MoneyFormat, through: date | None) -> list[str]:
    state = state_of(params)
    rows = unowned_items.actionable(reader, config, window, principal.team)
    listing = unowned_items.select(rows, sort=state["sort"], descending=state["order"] == "desc",
                                   reason=state["reason"], text=state["q"], page=state["page"],
                                   per_page=state["per_page"])
    reasons = by_reason(rows)
    unowned = float(reasons["effective_cost"].sum()) if reasons.height else 0.0
    total = queries.total(reader, window, principal.team)
    share = ("share of your team's spend" if principal.team else "share of spend")
    body = [pages.kpis([("unowned in window", fmt(unowned)),
                        (share, pages.percent(100 * unowned / total if total else None)),
                        ("items", str(len(rows))),
                        ("window", f"{window.start} – {window.end}")])]
    span = f"start={window.start}&end={window.end}"
    # Team leads may not read /api/unowned (the organisation's): their items are the rows.
    by_reason_url = (f"/api/unowned/items?{span}" if principal.team else f"/api/unowned?{span}")
    body.append(pages.figure_div(figures.unowned_by_reason(reasons, through, fmt),
                                 "unowned-by-reason", data_url=by_reason_url) if reasons.height
                else pages.empty_card("No unowned spend in this window."))
    if principal.team is None:
        daily = queries.unowned_daily_by_reason(reader, window)
        body.append(pages.figure_div(figures.cost_kind_daily(
            daily, through, "Unowned spend per day by reason", fmt), "unowned-daily",
            data_url=f"/api/allocation?{span}&aggregate=reason&step=day"
                     "&filter=team:__unowned__"))
    kept = {k: v for k, v in params.items() if k not in OWN}
    body.append(table_parts.section(listing, fmt, kept, state, sorted(reasons["name"].to_list()),
                                    len(rows), items_url(window, state)))
    return body


def items_url(window: Window, state: Mapping[str, Any]) -> str:
    """The route of the items table's rows: this window, sort and filters, every page."""
    pairs = [("start", window.start.isoformat()), ("end", window.end.isoformat()),
             ("sort", state["sort"]), ("order", state["order"]),
             *[(k, state[k]) for k in ("reason", "q") if state[k]]]
    return f"/api/unowned/items?{urlencode(pairs)}"
