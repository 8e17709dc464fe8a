"""Messages (Slack Block Kit + fallback text + facts), pure: statuses and anomalies in.

A budget and period is one conversation: its **parent** says where the budget stands now
(what crossed, the numbers, the top drivers, what the thread holds, who acknowledged or
snoozed it) and carries the buttons; **replies** in its thread say what changed (a higher
threshold crossed, an anomaly of the same scope). Every payload is
``{"text", "blocks", "facts"}``; ``text`` is the notification (and the whole of an email).
Money is written by ``models.currency.format_money``: the currency comes from the data.
"""

from __future__ import annotations

import re
from typing import Any

from finops.alerts.anomalies import Anomaly
from finops.alerts.budgets import BudgetStatus, ThresholdState
from models.currency import DEFAULT_LOCALE, format_money

ACK, SNOOZE = "finops_acknowledge", "finops_snooze_7d"
SNOOZE_DAYS = 7


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def context(*lines: str) -> dict[str, Any]:
    return {"type": "context",
            "elements": [{"type": "mrkdwn", "text": line[:3000]} for line in lines if line]}


def link_button(text: str, url: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "url": url}


def action_button(text: str, action: str, value: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text},
            "action_id": action, "value": value[:2000]}


def forecast_text(status: BudgetStatus, locale: str = DEFAULT_LOCALE) -> str:
    f, cur = status.forecast, status.budget.currency
    if not f.ok:
        return f"no forecast ({f.reason})"
    pct = 100.0 * (f.point or 0.0) / status.budget.amount
    return (f"{format_money(f.point, cur, locale)} ({pct:.1f}%), {f.level:.0%} interval "
            f"{format_money(f.low, cur, locale)} – {format_money(f.high, cur, locale)} "
            f"[{f.method}]")


def fx_text(fx: dict[str, Any]) -> str:
    """How the spend was converted into the budget's currency, or "" when it was not."""
    if not fx or fx.get("from") == fx.get("to"):
        return ""
    spread = fx.get("rates")
    shown = f"{spread[0]:.6g}–{spread[1]:.6g}" if spread else f"{fx['rate']:.6g}"
    return f"converted from {fx['from']} at 1 {fx['from']} = {shown} {fx['to']} ({fx['source']})"


def crossing_text(top: ThresholdState, others: list[ThresholdState]) -> str:
    """``actual 100%`` and, when several crossed at once, ``(with actual 50%, forecast 100%)``."""
    lower = sorted(others, key=lambda t: t.rank)
    return top.label + (f" (with {', '.join(t.label for t in lower)})" if lower else "")


def scope_text(status: BudgetStatus) -> str:
    b = status.budget
    return b.team or ", ".join(f"{k}={v}" for k, v in b.filter.items())


def used_text(status: BudgetStatus, locale: str) -> str:
    cur = status.budget.currency
    used = (f"{format_money(status.actual, cur, locale)} of "
            f"{format_money(status.budget.amount, cur, locale)} ({status.percent_used:.1f}%)")
    converted = fx_text(status.fx)
    return f"{used}; {converted}" if converted else used


def drivers_text(status: BudgetStatus, locale: str) -> str:
    lines = [f"• {d['name']}: {format_money(d['cost'], status.budget.currency, locale)}"
             for d in status.drivers]
    return "\n".join(lines) or "no spend yet"


def budget_fields(status: BudgetStatus, locale: str) -> dict[str, Any]:
    fields = [("Scope", scope_text(status)),
              ("Period", f"{status.period.label} ({status.period.start} – {status.period.end})"),
              ("Actual vs budget", used_text(status, locale)),
              ("Forecast", forecast_text(status, locale))]
    return {"type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in fields]}


def budget_parent(status: BudgetStatus, highest: ThresholdState | None,
                  with_it: list[ThresholdState], dashboard_url: str, *,
                  thread: list[str] | None = None, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """The conversation's parent: where the budget stands now."""
    b = status.budget
    crossed = crossing_text(highest, with_it) if highest else "no threshold"
    title = f"Budget {b.name} {status.period.label}: {crossed} crossed"
    text = (f"{title}. {scope_text(status)}: {used_text(status, locale)}; forecast "
            f"{forecast_text(status, locale)}. {dashboard_url}")
    blocks = [header(title), budget_fields(status, locale),
              section(f"*Top drivers*\n{drivers_text(status, locale)}")]
    if thread:
        blocks.append(section("*In the thread*\n" + "\n".join(f"• {t}" for t in thread[-10:])))
    blocks.append({"type": "actions", "elements": [
        link_button("Open team dashboard", dashboard_url),
        action_button("Acknowledge", ACK, status.conversation),
        action_button(f"Snooze {SNOOZE_DAYS} days", SNOOZE, status.conversation)]})
    blocks.append(context(data_note(status)))
    facts = {**status.as_dict(), "conversation": status.conversation,
             "highest": highest.label if highest else None,
             "crossed_with": [t.label for t in with_it], "thread": thread or []}
    return {"text": text, "blocks": blocks, "facts": facts}


def data_note(status: BudgetStatus) -> str:
    return (f"Data through {status.data_through or 'n/a'} (effective, amortized cost). One "
            "conversation per budget and period: later crossings and anomalies come in its "
            "thread.")


def threshold_reply(status: BudgetStatus, highest: ThresholdState,
                    with_it: list[ThresholdState], dashboard_url: str,
                    locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """A later crossing, in the conversation's thread."""
    b = status.budget
    title = f"Budget {b.name} {status.period.label}: now {crossing_text(highest, with_it)} crossed"
    text = f"{title}. {used_text(status, locale)}; forecast {forecast_text(status, locale)}."
    blocks = [section(f"*{title}*\n{used_text(status, locale)}\nForecast: "
                      f"{forecast_text(status, locale)}"),
              section(f"*Top drivers*\n{drivers_text(status, locale)}")]
    facts = {**status.as_dict(), "conversation": status.conversation,
             "highest": highest.label, "crossed_with": [t.label for t in with_it],
             "dashboard": dashboard_url}
    return {"text": text, "blocks": blocks, "facts": facts}


def threshold_notice(status: BudgetStatus, threshold: ThresholdState, dashboard_url: str,
                     locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """A threshold's crossing on its own, for a recipient outside the conversation."""
    message = threshold_reply(status, threshold, [], dashboard_url, locale)
    message["text"] = message["text"].replace(": now ", ": ") + f" {dashboard_url}"
    message["blocks"] = [header(message["text"].split(". ")[0]), *message["blocks"][1:],
                         budget_fields(status, locale),
                         {"type": "actions",
                          "elements": [link_button("Open team dashboard", dashboard_url)]}]
    return message


def anomaly_message(anomaly: Anomaly, dashboard_url: str, *, in_thread: bool = False,
                    locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """One anomaly (however many monitors saw it) with its ranked root causes."""
    def money(amount: float) -> str:
        return format_money(amount, anomaly.currency, locale)

    title = f"Spend anomaly: {anomaly.scope} on {anomaly.day}"
    summary = (f"{money(anomaly.actual)} spent vs {money(anomaly.expected)} a day expected "
               f"({money(anomaly.impact)} more, robust z {anomaly.score:.1f}, baseline "
               f"{anomaly.baseline_days} days)")
    seen = ", ".join(f"{d} {v}" if d != "unowned" else "unowned spend"
                     for d, v in anomaly.also)
    causes = [f"{i}. {c.name}: +{money(c.contribution)} ({money(c.actual)} vs "
              f"{money(c.expected)} a day)" for i, c in enumerate(anomaly.root_causes, start=1)]
    text = (f"{title}: {summary}. Root causes: {'; '.join(causes) or 'none above the floor'}."
            + (f" Also seen by: {seen}." if seen else "") + f" {dashboard_url}")
    blocks = [section(f"*{title}*") if in_thread else header(title), section(summary),
              section("*Root causes (ranked by amount)*\n"
                      + ("\n".join(causes) or "none above the floor"))]
    if seen:
        blocks.append(context(f"Also seen by the monitors of {seen}."))
    if not in_thread:
        blocks.append({"type": "actions",
                       "elements": [link_button("Open team dashboard", dashboard_url)]})
    return {"text": text, "blocks": blocks, "facts": anomaly.as_dict()}


def with_marks(payload: dict[str, Any], marks: list[str]) -> dict[str, Any]:
    """A parent with who acknowledged / snoozed it in its closing context block."""
    blocks = [b for b in payload["blocks"] if b.get("block_id") != "finops-marks"]
    if marks:
        block = context(*marks)
        block["block_id"] = "finops-marks"
        blocks.insert(len(blocks) - 1 if blocks and blocks[-1]["type"] == "context"
                      else len(blocks), block)
    return {**payload, "blocks": blocks}


def plain(payload: dict[str, Any]) -> str:
    """A Block Kit message as terminal text (dry-run output, email bodies)."""
    lines: list[str] = []
    for block in payload["blocks"]:
        if block["type"] in ("header", "section") and "text" in block:
            lines.append(block["text"]["text"])
        for item in block.get("fields", []):
            lines.append("  " + item["text"].replace("\n", ": ", 1))
        for item in block.get("elements", []):
            text = item.get("text")
            text = text.get("text") if isinstance(text, dict) else text
            if "url" in item:
                lines.append(f"{text}: {item['url']}")
            elif "action_id" not in item:
                lines.append(str(text))
    return "\n".join(re.sub(r"\*([^*\n]+)\*", r"\1", line) for line in lines)
