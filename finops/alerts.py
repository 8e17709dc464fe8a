"""Alerts: budgets, anomalies and the unowned-spend digest, delivered to Slack via an outbox.

Every alert is first written to ``alert_outbox`` (migration 0003) under its identity
(``alert_key``); writing a key that exists is a no-op, so each (budget, period, threshold)
fires once however often ``finops budgets check`` runs. Delivery reads the pending rows and
posts each with ``chat.postMessage``; a failure (HTTP error, ``ok: false``, timeout) keeps
the row pending with ``attempts + 1`` and ``last_error`` for the next run, and after
``settings.slack.max_attempts`` attempts it is dead-lettered (``status = 'dead'``).

A row is marked sent right after Slack confirms it; a crash between the two would resend
that one message on the next run (at-least-once, the only honest promise without Slack-side
deduplication).

Readers (the API) call ``budget_status`` and ``list_alerts`` with a read-only connection on
the published snapshot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import polars as pl
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from finops.anomalies import Anomaly, anomaly_message, detect
from finops.budgets import BudgetStatus, budget_message, evaluate, period_window
from finops.fx import Rates, in_currency
from finops.governance.digest import digest_section
from finops.settings import Settings
from finops.warehouse import CursorReader
from models.config import Budget, FinOpsConfig
from models.currency import format_money
from models.errors import AlertDeliveryError, ConfigError, CurrencyError
from models.schemas import ALLOCATION

SPEND_COLUMNS = ("team", "cluster", "namespace", "service_name", "cost_kind", "currency")
HISTORY_DAYS = 35  # forecast lookback (28) + anomaly baseline and the days checked
ANOMALY_DAYS = 3  # recent days re-checked each run: late data can reveal a spike later


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # budget | anomaly | digest
    team: str | None
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    facts: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> str:
        return json.dumps({"text": self.text, "blocks": self.blocks, "facts": self.facts},
                          default=str)


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (alert_key, error)
    dead: list[str] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _one(con: duckdb.DuckDBPyConnection, sql: str,
         params: list[Any] | None = None) -> tuple[Any, ...]:
    """The single row of an aggregate query (fetched fully: DuckDB 2 wants results drained)."""
    return tuple(con.execute(sql, params or []).fetchall()[0])


# -- reading spend -------------------------------------------------------------------------

def data_range(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """First and last day with any allocated spend."""
    row = _one(con, "SELECT min(day), max(day) FROM allocation")
    return (row[0], row[1]) if row[0] is not None else None


def filter_columns(config: FinOpsConfig) -> list[str]:
    """Allocation columns budgets filter on; an unknown column is a config error."""
    columns: list[str] = []
    for i, budget in enumerate(config.budgets):
        for column in budget.filter:
            if column not in ALLOCATION.schema or ALLOCATION.schema[column] != pl.String:
                raise ConfigError(
                    f"finops.yaml: budgets[{i}].filter.{column}: not a text column of "
                    f"`allocation` (one of: {', '.join(sorted(_text_columns()))})")
            columns.append(column)
    return sorted(set(columns) - set(SPEND_COLUMNS))


def _text_columns() -> list[str]:
    return [n for n, t in ALLOCATION.schema.items() if t == pl.String]


def load_spend(con: duckdb.DuckDBPyConnection, start: date, end: date,
               extra: list[str]) -> pl.DataFrame:
    """Allocated effective cost per day and (team, cluster, namespace, service, kind, …)."""
    keys = ", ".join(f'"{c}"' for c in (*SPEND_COLUMNS, *extra))
    sql = (f"SELECT day, {keys}, sum(effective_cost) AS effective_cost FROM allocation "
           f"WHERE day BETWEEN ? AND ? GROUP BY day, {keys}")
    return con.sql(sql, params=[start, end]).pl()


def spend_currency(spend: pl.DataFrame) -> str | None:
    """The reporting currency of the spend read (None: no spend); two is a CurrencyError."""
    found = sorted(c for c in spend["currency"].unique().to_list() if c)
    if len(found) > 1:
        raise CurrencyError(f"the allocation holds {' and '.join(found)} amounts, which cannot "
                            "be added up: allocate those days again (`finops allocate`)")
    return found[0] if found else None


def budget_spend(con: duckdb.DuckDBPyConnection, config: FinOpsConfig, spend: pl.DataFrame,
                 ) -> dict[str, tuple[pl.DataFrame, dict[str, Any]]]:
    """The spend in each budget currency, and how it was converted (``finops.fx``: finops.yaml,
    loaded rates, then the exports' own rates of each day)."""
    currency = spend_currency(spend)
    out: dict[str, tuple[pl.DataFrame, dict[str, Any]]] = {}
    rates: Rates | None = None
    for wanted in sorted({b.currency for b in config.budgets}):
        if currency is None or wanted == currency:
            out[wanted] = spend, {"from": currency, "to": wanted, "rate": 1.0,
                                  "source": "same-currency"} if currency else {}
            continue
        if rates is None:
            span = (spend["day"].min(), spend["day"].max())
            rates = Rates.read(CursorReader(con), config, span)  # type: ignore[arg-type]
        out[wanted] = in_currency(spend, rates, wanted)
    return out


def _evaluate(budget: Budget, spends: dict[str, tuple[pl.DataFrame, dict[str, Any]]],
              day: date, span: tuple[date, date] | None) -> BudgetStatus:
    spend, fx = spends[budget.currency]
    return evaluate(budget, spend, day, span, fx)


def _spend_window(config: FinOpsConfig, as_of: date) -> date:
    starts = [period_window(b.period, as_of).start for b in config.budgets]
    return min([as_of - timedelta(days=HISTORY_DAYS), *starts])


def evaluate_all(con: duckdb.DuckDBPyConnection, config: FinOpsConfig,
                 as_of: date | None) -> tuple[list[BudgetStatus], pl.DataFrame, date | None,
                                              tuple[date, date] | None]:
    """Budget statuses on ``as_of`` (default: the last day with data) and the spend read."""
    span = data_range(con)
    day = as_of or (span[1] if span else _now().date())
    spend = load_spend(con, _spend_window(config, day), day, filter_columns(config))
    spends = budget_spend(con, config, spend)
    statuses = [_evaluate(b, spends, day, span) for b in config.budgets
                if not b.starts or b.starts <= day]
    return statuses, spend, day, span


# -- building alerts -----------------------------------------------------------------------

def team_url(settings: Settings, team: str | None) -> str:
    base = settings.api.public_url.rstrip("/")
    return f"{base}/dashboards/team/{team}" if team else f"{base}/dashboards"


def team_channel(config: FinOpsConfig, settings: Settings, team: str | None) -> str:
    declared = config.team(team) if team else None
    return (declared.slack_channel if declared else None) or settings.slack.platform_channel


def budget_alerts(status: BudgetStatus, config: FinOpsConfig,
                  settings: Settings) -> list[Alert]:
    budget = status.budget
    channel = budget.channel or team_channel(config, settings, budget.team)
    alerts = []
    for threshold in status.crossed:
        message = budget_message(status, threshold, team_url(settings, budget.team),
                                 settings.locale)
        facts = {**status.as_dict(), "threshold": {"percent": threshold.percent,
                                                    "kind": threshold.kind}}
        alerts.append(Alert(threshold.alert_key, "budget", budget.team, channel,
                            message["text"], message["blocks"], facts))
    return alerts


def anomaly_alert(anomaly: Anomaly, config: FinOpsConfig, settings: Settings) -> Alert:
    message = anomaly_message(anomaly, team_url(settings, anomaly.team), settings.locale)
    return Alert(anomaly.alert_key, "anomaly", anomaly.team,
                 team_channel(config, settings, anomaly.team), message["text"],
                 message["blocks"], anomaly.as_dict())


def digest_sections(con: duckdb.DuckDBPyConnection, config: FinOpsConfig,
                    through: date) -> list[dict[str, Any]]:
    """The hook: sections other areas add to the weekly platform digest, each
    ``{"text", "blocks", "facts"}`` (today: governance's)."""
    section = digest_section(con, config, through)
    return [section] if section else []


def unowned_digest(con: duckdb.DuckDBPyConnection, through: date, settings: Settings,
                   days: int = 7, top: int = 5,
                   sections: list[dict[str, Any]] | None = None) -> Alert | None:
    """Unowned spend of the ``days`` days ending ``through``: totals by reason, top items."""
    start = through - timedelta(days=days - 1)
    window = [start, through]
    by_reason = con.execute(
        "SELECT reason, sum(effective_cost) AS cost FROM unowned_spend "
        "WHERE day BETWEEN ? AND ? GROUP BY reason ORDER BY cost DESC, reason", window).fetchall()
    if not by_reason:
        return None
    currencies = [c for (c,) in con.execute(
        "SELECT DISTINCT currency FROM allocation WHERE day BETWEEN ? AND ?", window).fetchall()]
    if len(currencies) != 1:
        raise CurrencyError(f"the allocation holds {', '.join(map(str, currencies))} amounts "
                            f"in {start} .. {through}: allocate those days again")
    items = con.execute(
        "SELECT reason, coalesce(cluster || '/' || namespace, namespace, service_name, "
        "sub_account_id, provider, '?') AS item, sum(effective_cost) AS cost "
        "FROM unowned_spend WHERE day BETWEEN ? AND ? GROUP BY ALL "
        "ORDER BY cost DESC, item LIMIT ?", [*window, top]).fetchall()
    total_row = _one(con, "SELECT sum(effective_cost) FROM allocation WHERE day BETWEEN ? AND ?",
                     window)
    total = float(total_row[0] or 0.0)
    return _with_sections(_digest_alert(start, through, by_reason, items,
                                        (total, currencies[0]), settings),
                          sections or [])


def _with_sections(alert: Alert, sections: list[dict[str, Any]]) -> Alert:
    """The digest with the hook's sections before its closing context block."""
    if not sections:
        return alert
    blocks = alert.blocks[:-1] + [b for s in sections for b in s["blocks"]] + alert.blocks[-1:]
    text = " ".join([alert.text, *(s["text"] for s in sections)])
    facts = {**alert.facts, "sections": [s["facts"] for s in sections]}
    return Alert(alert.key, alert.kind, alert.team, alert.channel, text, blocks, facts)


def _digest_alert(start: date, through: date, by_reason: list[Any], items: list[Any],
                  spend: tuple[float, str], settings: Settings) -> Alert:
    total, currency = spend

    def money(amount: float) -> str:
        return format_money(amount, currency, settings.locale)

    unowned = sum(float(cost) for _, cost in by_reason)
    share = 100.0 * unowned / total if total else 0.0
    title = f"Unowned spend {start} – {through}: {money(unowned)} ({share:.1f}% of spend)"
    reasons = [f"• {reason}: {money(cost)}" for reason, cost in by_reason]
    tops = [f"{i}. {item} ({reason}): {money(cost)}"
            for i, (reason, item, cost) in enumerate(items, start=1)]
    text = f"{title}. By reason: {'; '.join(r[2:] for r in reasons)}. Top: {'; '.join(tops)}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        _section("*By reason*\n" + "\n".join(reasons)),
        _section("*Top items*\n" + "\n".join(tops)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "Fix ownership with a `team` label or a finops.yaml mapping; query details with "
            "`finops sql \"SELECT * FROM unowned_spend\"`.")}]},
    ]
    year, week, _ = through.isocalendar()
    facts = {"start": start.isoformat(), "through": through.isoformat(), "currency": currency,
             "unowned": round(unowned, 2), "total": round(total, 2),
             "by_reason": {r: round(float(c), 2) for r, c in by_reason},
             "top": [{"reason": r, "item": i, "cost": round(float(c), 2)} for r, i, c in items]}
    return Alert(f"digest:unowned:{year}-W{week:02d}", "digest", None,
                 settings.slack.platform_channel, text, blocks, facts)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def collect(con: duckdb.DuckDBPyConnection, config: FinOpsConfig, settings: Settings,
            as_of: date | None) -> tuple[list[BudgetStatus], list[Alert]]:
    """Every alert due on ``as_of``: crossed thresholds, anomalies, the digest."""
    statuses, spend, day, span = evaluate_all(con, config, as_of)
    alerts = [a for s in statuses for a in budget_alerts(s, config, settings)]
    if span and day:
        through = min(day, span[1])
        days = [through - timedelta(days=i) for i in reversed(range(ANOMALY_DAYS))]
        alerts += [anomaly_alert(a, config, settings) for a in detect(spend, days, span[0])]
        digest = unowned_digest(con, through, settings,
                                sections=digest_sections(con, config, through))
        alerts += [digest] if digest else []
    return statuses, alerts


# -- the outbox ----------------------------------------------------------------------------

def enqueue(con: duckdb.DuckDBPyConnection, alert: Alert) -> bool:
    """Add ``alert`` unless its key was ever enqueued; True when it is new."""
    if _one(con, "SELECT count(*) FROM alert_outbox WHERE alert_key = ?", [alert.key])[0]:
        return False
    con.execute(
        "INSERT INTO alert_outbox (alert_key, kind, team, channel, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [alert.key, alert.kind, alert.team, alert.channel, alert.payload(), _now()])
    return True


def pending(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT alert_key, kind, team, channel, payload, attempts FROM alert_outbox "
        "WHERE status = 'pending' ORDER BY created_at, alert_key").fetchall()
    return [{"alert_key": k, "kind": kind, "team": t, "channel": c, "payload": json.loads(p),
             "attempts": a} for k, kind, t, c, p, a in rows]


def slack_client(settings: Settings) -> WebClient:
    """The Web API client; the token comes only from settings (env), never from config."""
    if settings.slack.token is None:
        raise AlertDeliveryError(
            "no Slack token: set FINOPS_SLACK__TOKEN (a bot token with chat:write), "
            "or run without --send to print the messages")
    base_url = settings.slack.base_url.rstrip("/") + "/"
    # No in-call retries: the outbox is the one retry mechanism, so every attempt is counted
    # and a timed-out post (which Slack may still have accepted) is not silently repeated.
    return WebClient(token=settings.slack.token.get_secret_value(), base_url=base_url,
                     timeout=max(1, round(settings.slack.timeout_s)), retry_handlers=[])


def post(client: WebClient, channel: str, payload: dict[str, Any]) -> str:
    """Post one message; returns Slack's ``ts``; any failure is an ``AlertDeliveryError``."""
    try:
        response = client.chat_postMessage(channel=channel, text=payload["text"],
                                           blocks=payload["blocks"])
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        raise AlertDeliveryError(
            f"Slack refused (HTTP {exc.response.status_code}: {error or 'no error given'})"
        ) from None
    except (SlackClientError, OSError, ValueError) as exc:
        raise AlertDeliveryError(f"Slack unreachable: {type(exc).__name__}: {exc}") from None
    return str(response.get("ts", ""))


def deliver(con: duckdb.DuckDBPyConnection, client: WebClient, max_attempts: int,
            on_progress: Callable[[str], None] | None = None) -> Delivery:
    """Try every pending alert once; record the outcome of each."""
    result = Delivery()
    for row in pending(con):
        try:
            ts = post(client, row["channel"], row["payload"])
        except AlertDeliveryError as exc:
            _record_failure(con, row, str(exc), max_attempts, result)
        else:
            con.execute(
                "UPDATE alert_outbox SET status = 'sent', attempts = attempts + 1, "
                "sent_at = ?, slack_ts = ?, last_error = NULL WHERE alert_key = ?",
                [_now(), ts, row["alert_key"]])
            result.sent.append(row["alert_key"])
        if on_progress:
            on_progress(row["alert_key"])
    return result


def _record_failure(con: duckdb.DuckDBPyConnection, row: dict[str, Any], error: str,
                    max_attempts: int, result: Delivery) -> None:
    attempts = int(row["attempts"]) + 1
    status = "dead" if attempts >= max_attempts else "pending"
    con.execute("UPDATE alert_outbox SET status = ?, attempts = ?, last_error = ? "
                "WHERE alert_key = ?", [status, attempts, error, row["alert_key"]])
    result.failed.append((row["alert_key"], error))
    if status == "dead":
        result.dead.append(row["alert_key"])


def plain(payload: dict[str, Any]) -> str:
    """A Block Kit message as terminal text (dry-run output)."""
    lines: list[str] = []
    for block in payload["blocks"]:
        if block["type"] in ("header", "section") and "text" in block:
            lines.append(block["text"]["text"])
        for item in block.get("fields", []):
            lines.append("  " + item["text"].replace("\n", ": ", 1))
        for item in block.get("elements", []):
            text = item.get("text")
            text = text.get("text") if isinstance(text, dict) else text
            lines.append(f"{text}: {item['url']}" if "url" in item else str(text))
    return "\n".join(re.sub(r"\*([^*\n]+)\*", r"\1", line) for line in lines)


# -- read API (published snapshot) ---------------------------------------------------------

def _outbox_states(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    try:
        return dict(con.execute("SELECT alert_key, status FROM alert_outbox").fetchall())
    except duckdb.CatalogException:
        return {}  # a snapshot from before migration 0003


def budget_status(con: duckdb.DuckDBPyConnection, config: FinOpsConfig,
                  as_of: date | None) -> list[dict[str, Any]]:
    """Every budget's status on ``as_of`` (default: the last day with data), with the
    outbox state of each threshold's alert (None = not fired)."""
    statuses, *_ = evaluate_all(con, config, as_of)
    states = _outbox_states(con)
    out = []
    for status in statuses:
        record = status.as_dict()
        for threshold in record["thresholds"]:
            threshold["alert_status"] = states.get(threshold["alert_key"])
        out.append(record)
    return out


def list_alerts(con: duckdb.DuckDBPyConnection, team: str | None) -> list[dict[str, Any]]:
    """Outbox rows, newest first; ``team`` limits them to that team's alerts."""
    sql = ("SELECT alert_key, kind, team, channel, status, attempts, last_error, slack_ts, "
           "created_at, sent_at, payload FROM alert_outbox "
           + ("WHERE team = ? " if team else "") + "ORDER BY created_at DESC, alert_key")
    try:
        cursor = con.execute(sql, [team] if team else [])
    except duckdb.CatalogException:
        return []
    names = [d[0] for d in cursor.description or []]
    out = []
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        payload = json.loads(record.pop("payload"))
        record.update(text=payload["text"], facts=payload.get("facts", {}))
        out.append(record)
    return out
