"""Scheduled messages: the weekly unowned-spend digest for the platform channel (with the
sections other areas add through ``digest_sections``), the digests of budgets whose
``notify`` is ``daily`` or ``weekly``, and each team's budget report.

Schedules follow the UTC clock of the check: a digest gathers what checks found during a
day (or ISO week) and goes out with the first check after it; a report goes out with the
first check of each day (or week).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from finops.alerts.budgets import BudgetStatus
from finops.alerts.compose import context, forecast_text, header, link_button, section
from finops.alerts.spend import one
from finops.governance.digest import digest_section
from models.config import FinOpsConfig
from models.currency import DEFAULT_LOCALE, format_money
from models.errors import CurrencyError


def period_of(cadence: str, moment: date) -> str:
    """``2026-10-20`` (daily) or ``2026-W43`` (weekly)."""
    if cadence == "daily":
        return moment.isoformat()
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def digest_sections(con: duckdb.DuckDBPyConnection, config: FinOpsConfig,
                    through: date) -> list[dict[str, Any]]:
    """The hook: sections other areas add to the weekly platform digest, each
    ``{"text", "blocks", "facts"}`` (today: governance's)."""
    found = digest_section(con, config, through)
    return [found] if found else []


UNOWNED_ITEM = ("coalesce(cluster || '/' || namespace, 'cluster ' || cluster, service_name, "
                "sub_account_id, provider, '?')")


def unowned_digest(con: duckdb.DuckDBPyConnection, through: date, locale: str = DEFAULT_LOCALE,
                   days: int = 7, top: int = 5,
                   sections: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """Unowned spend of the ``days`` days ending ``through``: totals by reason, top items
    (idle capacity named by its cluster)."""
    window = [through - timedelta(days=days - 1), through]
    by_reason = con.execute(
        "SELECT reason, sum(effective_cost) AS cost FROM unowned_spend "
        "WHERE day BETWEEN ? AND ? GROUP BY reason ORDER BY cost DESC, reason", window).fetchall()
    if not by_reason:
        return None
    currencies = [c for (c,) in con.execute(
        "SELECT DISTINCT currency FROM allocation WHERE day BETWEEN ? AND ?", window).fetchall()]
    if len(currencies) != 1:
        raise CurrencyError(f"the allocation holds {', '.join(map(str, currencies))} amounts "
                            f"in {window[0]} .. {through}: allocate those days again")
    items = con.execute(
        f"SELECT reason, {UNOWNED_ITEM} AS item, sum(effective_cost) AS cost "
        "FROM unowned_spend WHERE day BETWEEN ? AND ? GROUP BY ALL "
        "ORDER BY cost DESC, item LIMIT ?", [*window, top]).fetchall()
    total = float(one(con, "SELECT sum(effective_cost) FROM allocation WHERE day BETWEEN ? "
                      "AND ?", window)[0] or 0.0)
    message = _unowned(window[0], through, by_reason, items, (total, currencies[0]), locale)
    return _with_sections(message, sections or [])


def _with_sections(message: dict[str, Any], sections: list[dict[str, Any]]) -> dict[str, Any]:
    """The digest with the hook's sections before its closing context block."""
    if not sections:
        return message
    blocks = (message["blocks"][:-1] + [b for s in sections for b in s["blocks"]]
              + message["blocks"][-1:])
    return {"text": " ".join([message["text"], *(s["text"] for s in sections)]),
            "blocks": blocks,
            "facts": {**message["facts"], "sections": [s["facts"] for s in sections]}}


def _unowned(start: date, through: date, by_reason: list[Any], items: list[Any],
             spend: tuple[float, str], locale: str) -> dict[str, Any]:
    total, currency = spend

    def money(amount: float) -> str:
        return format_money(amount, currency, locale)

    unowned = sum(float(cost) for _, cost in by_reason)
    share = 100.0 * unowned / total if total else 0.0
    title = f"Unowned spend {start} – {through}: {money(unowned)} ({share:.1f}% of spend)"
    reasons = [f"• {reason}: {money(cost)}" for reason, cost in by_reason]
    tops = [f"{i}. {item} ({reason}): {money(cost)}"
            for i, (reason, item, cost) in enumerate(items, start=1)]
    text = f"{title}. By reason: {'; '.join(r[2:] for r in reasons)}. Top: {'; '.join(tops)}"
    blocks = [header(title), section("*By reason*\n" + "\n".join(reasons)),
              section("*Top items*\n" + "\n".join(tops)),
              context("Fix ownership with a `team` label or a finops.yaml mapping; query "
                      "details with `finops sql \"SELECT * FROM unowned_spend\"`.")]
    facts = {"start": start.isoformat(), "through": through.isoformat(), "currency": currency,
             "unowned": round(unowned, 2), "total": round(total, 2),
             "by_reason": {r: round(float(c), 2) for r, c in by_reason},
             "top": [{"reason": r, "item": i, "cost": round(float(c), 2)} for r, i, c in items]}
    return {"text": text, "blocks": blocks, "facts": facts}


def unowned_key(through: date) -> str:
    return f"digest:unowned:{period_of('weekly', through)}"


# -- budgets with notify: daily | weekly -----------------------------------------------------

def budget_digest(events: list[dict[str, Any]], cadence: str, period: str,
                  ) -> dict[str, Any]:
    """One message for what a day's (or week's) checks found on daily / weekly budgets."""
    title = f"Budget digest ({cadence}, {period}): {len(events)} alert(s)"
    by_budget: dict[str, list[str]] = {}
    for event in events:
        by_budget.setdefault(event["budget"], []).append(event["text"])
    lines = [f"*{budget}*\n" + "\n".join(f"• {t}" for t in texts)
             for budget, texts in sorted(by_budget.items())]
    text = f"{title}. " + " ".join(e["text"] for e in events)
    blocks = [header(title), *[section(line) for line in lines[:45]],
              context("Budgets with `notify: daily` or `weekly` gather their alerts here.")]
    facts = {"cadence": cadence, "period": period, "events": [e["event_key"] for e in events]}
    return {"text": text, "blocks": blocks, "facts": facts}


def due_digests(events: list[dict[str, Any]], now: datetime,
                ) -> dict[tuple[str, str, str, str], list[dict[str, Any]]]:
    """Waiting events whose day / week is over, by (channel, transport, cadence, period)."""
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for event in events:
        if event["period"] < period_of(event["cadence"], now.date()):
            key = (event["channel"], event["transport"], event["cadence"], event["period"])
            groups.setdefault(key, []).append(event)
    return groups


# -- a team's budget report -------------------------------------------------------------------

def team_report(team: str, statuses: list[BudgetStatus], dashboard_url: str,
                locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """Where each of a team's budgets stands: actual, % used, forecast, what crossed."""
    mine = [s for s in statuses if s.budget.team == team]
    title = f"Budget report for {team}: {len(mine)} budget(s)"
    lines = [_report_line(s, locale) for s in mine]
    text = f"{title}. " + " ".join(lines) + f" {dashboard_url}"
    shown = [section(line) for line in lines[:45]] or [section("no budgets")]
    blocks = [header(title), *shown,
              {"type": "actions", "elements": [link_button("Open team dashboard",
                                                           dashboard_url)]}]
    facts = {"team": team, "budgets": [s.as_dict() for s in mine]}
    return {"text": text, "blocks": blocks, "facts": facts}


def _report_line(status: BudgetStatus, locale: str) -> str:
    b = status.budget
    crossed = ", ".join(t.label for t in sorted(status.crossed, key=lambda t: t.rank))
    return (f"*{b.name}* {status.period.label}: {format_money(status.actual, b.currency, locale)}"
            f" of {format_money(b.amount, b.currency, locale)} ({status.percent_used:.1f}%), "
            f"forecast {forecast_text(status, locale)}; crossed: {crossed or 'nothing'}")
