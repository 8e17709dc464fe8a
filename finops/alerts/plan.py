"""What a check writes to the outbox: at most one new message per budget, in its conversation.

For each budget (its period as of the day checked):

- the thresholds crossed that never fired: none -> nothing; otherwise one message for the
  highest (naming the lower ones crossed with it). The budget's first one opens the
  conversation (the parent); later ones are replies in its thread, and the parent is updated
  to the current state (``chat.update``, silent). Every crossed threshold fires once.
- a snoozed budget stays quiet: nothing fires until the snooze ends (then what crossed
  meanwhile fires as one message);
- ``notify: daily | weekly``: the alert becomes an event of the budget digest;
- a threshold's ``also_to`` recipients get the crossing as a message of their own.

Anomalies (``finops.alerts.anomalies``), checked on the recent days and on every day whose
data changed since the last check: a day that continues an anomaly already alerted extends
it (no new message); a new one goes into the thread of the conversation of a budget with
the same scope (team, or a filter on the account, service or cluster), else it is a message
of its own to the team's channel (the platform channel when nobody owns it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from finops.alerts import anomalies, compose, digest, interactions, outbox, spend, state
from finops.alerts.anomalies import Anomaly
from finops.alerts.budgets import BudgetStatus, ThresholdState
from finops.alerts.channels import Destination, resolve, team_destination
from finops.alerts.outbox import Row
from finops.alerts.state import Conversation
from finops.settings import Settings
from models.config import Budget, FinOpsConfig

RECENT_DAYS = 3  # always checked: the newest days are the ones still filling in
FILTER_OF = {"account": "sub_account_id", "service": "service_name", "cluster": "cluster"}


def team_url(settings: Settings, team: str | None) -> str:
    base = settings.api.public_url.rstrip("/")
    return f"{base}/dashboards/team/{team}" if team else f"{base}/dashboards"


@dataclass
class Planned:
    statuses: list[BudgetStatus]
    day: date
    span: tuple[date, date] | None
    new: list[str] = field(default_factory=list)
    quiet: list[str] = field(default_factory=list)  # snoozed budgets holding alerts back
    anomalies: list[Anomaly] = field(default_factory=list)
    checked_days: list[date] = field(default_factory=list)


class Planner:
    def __init__(self, con: duckdb.DuckDBPyConnection, config: FinOpsConfig,
                 settings: Settings, now: datetime, presses: list[dict[str, Any]]) -> None:
        self.con, self.config, self.settings, self.now = con, config, settings, now
        self.presses = presses
        self.snoozed = interactions.snoozed(presses, now)

    def run(self, as_of: date | None) -> Planned:
        state.copy_interactions(self.con, self.presses)
        statuses, day, span = spend.evaluate_all(self.con, self.config, as_of, self.now.date())
        planned = Planned(statuses, day, span)
        for status in statuses:
            self._budget(status, planned)
        if span:
            self._anomalies(statuses, span, min(day, span[1]), planned)
        for status in statuses:
            self._refresh(status)
        self._scheduled(statuses, span, planned)
        return planned

    def _enqueue(self, row: Row, planned: Planned) -> None:
        if outbox.enqueue(self.con, row, self.now):
            planned.new.append(row.key)

    # -- budgets -----------------------------------------------------------------------------
    def _budget(self, status: BudgetStatus, planned: Planned) -> None:
        crossed = status.crossed
        done = state.fired(self.con, [t.alert_key for t in crossed])
        new = [t for t in crossed if t.alert_key not in done]
        if not new:
            return
        budget = status.budget
        if budget.name in self.snoozed:
            planned.quiet.append(budget.name)
            return
        top = max(new, key=lambda t: t.rank)
        others = [t for t in new if t is not top]
        if budget.notify != "immediate":
            self._budget_event(status, top, others)
        else:
            self._conversation_message(status, top, others, planned)
        for threshold in new:
            self._also_to(status, threshold, planned)

    def _destination(self, budget: Budget) -> Destination:
        return team_destination(self.config, self.settings, budget.team, budget.channel)

    def _conversation_message(self, status: BudgetStatus, top: ThresholdState,
                              others: list[ThresholdState], planned: Planned) -> None:
        budget, url = status.budget, team_url(self.settings, status.budget.team)
        found = state.conversation(self.con, status.conversation)
        if found is None:
            payload = compose.budget_parent(status, top, others, url,
                                            locale=self.settings.locale)
            dest = self._destination(budget)
            self._enqueue(Row(top.alert_key, "budget", budget.team, dest.channel, dest.transport,
                              payload, "post", status.conversation), planned)
            state.open_conversation(self.con, Conversation(
                status.conversation, "budget", budget.name, status.period.label, budget.team,
                dest.channel, dest.transport, top.alert_key, None, payload), self.now)
        else:
            payload = compose.threshold_reply(status, top, others, url, self.settings.locale)
            self._enqueue(Row(top.alert_key, "budget", budget.team, found.channel,
                              found.transport, payload, "reply", found.key), planned)
        state.mark_fired(self.con, [top.alert_key, *(t.alert_key for t in others)],
                         status.conversation, top.alert_key, self.now)

    def _budget_event(self, status: BudgetStatus, top: ThresholdState,
                      others: list[ThresholdState]) -> None:
        budget, dest = status.budget, self._destination(status.budget)
        text = (f"{budget.name} {status.period.label}: {compose.crossing_text(top, others)} "
                f"crossed; "
                f"{compose.used_text(status, self.settings.locale)}")
        self._event(budget, dest, top.alert_key, text, status.as_dict())
        state.mark_fired(self.con, [top.alert_key, *(t.alert_key for t in others)], None,
                         None, self.now)

    def _event(self, budget: Budget, dest: Destination, key: str, text: str,
               facts: dict[str, Any]) -> None:
        cadence = str(budget.notify)
        state.add_event(self.con, {
            "key": key, "budget": budget.name, "channel": dest.channel,
            "transport": dest.transport, "cadence": cadence,
            "period": digest.period_of(cadence, self.now.date()), "team": budget.team,
            "text": text, "facts": facts}, self.now)

    def _also_to(self, status: BudgetStatus, threshold: ThresholdState,
                 planned: Planned) -> None:
        url = team_url(self.settings, status.budget.team)
        for ref in threshold.also_to:
            dest = resolve(self.config, ref)
            payload = compose.threshold_notice(status, threshold, url, self.settings.locale)
            self._enqueue(Row(f"{threshold.alert_key}>{dest.transport}:{dest.channel}",
                              "budget", status.budget.team, dest.channel, dest.transport,
                              payload), planned)

    def _refresh(self, status: BudgetStatus) -> None:
        """The parent of this period's conversation, brought up to date (numbers, what
        crossed, the thread, who acknowledged or snoozed)."""
        found = state.conversation(self.con, status.conversation)
        if found is None:
            return
        fired = state.fired_in(self.con, found.key)
        told = [t for t in status.thresholds if t.alert_key in fired]
        top = max(told, key=lambda t: t.rank) if told else None
        others = [t for t in told if t is not top]
        payload = compose.budget_parent(
            status, top, others, team_url(self.settings, status.budget.team),
            thread=state.thread_lines(self.con, found.key), locale=self.settings.locale)
        mine = [p for p in self.presses if p["conversation"] == found.key
                or (p["action"] == "snooze" and p["budget"] == status.budget.name)]
        payload = compose.with_marks(payload, interactions.marks(mine, self.now))
        state.set_state(self.con, found.key, payload, self.now)

    # -- anomalies ---------------------------------------------------------------------------
    def _anomalies(self, statuses: list[BudgetStatus], span: tuple[date, date], last: date,
                   planned: Planned) -> None:
        found = self._detect(span, last, planned)
        planned.anomalies = found
        for anomaly in found:
            self._anomaly(anomaly, statuses, planned)

    def _days(self, span: tuple[date, date], last: date) -> tuple[list[date], dict[date, str]]:
        settings = self.config.anomalies
        start = max(span[0], last - timedelta(days=settings.recheck_days))
        prints = spend.day_fingerprints(self.con, start, last)
        before = state.checked_days(self.con)
        recent = {last - timedelta(days=i) for i in range(RECENT_DAYS)}
        # The first check sees no history of fingerprints: it checks only the recent days
        # (alerting on last month's anomalies now would be noise).
        changed = {d for d, f in prints.items() if before and before.get(d) != f}
        return sorted(d for d in recent | changed if span[0] <= d <= last), prints

    def _detect(self, span: tuple[date, date], last: date, planned: Planned) -> list[Anomaly]:
        cfg = self.config.anomalies
        days, prints = self._days(span, last)
        planned.checked_days = days
        if not days or not cfg.monitors:
            state.store_days(self.con, prints, self.now)
            return []
        series = spend.monitor_series(self.con, [m.dimension for m in cfg.monitors],
                                      days[0] - timedelta(days=cfg.baseline_days), last)
        currency = spend.one(self.con, "SELECT min(currency) FROM allocation WHERE day = ?",
                             [last])[0]
        found = anomalies.detect(series, days, span[0], cfg.monitors,
                                 baseline_days=cfg.baseline_days,
                                 min_baseline=cfg.min_baseline_days, currency=currency)
        explained = [self._explained(a, span[0]) for a in found]
        state.store_days(self.con, prints, self.now)
        return anomalies.merge(explained)

    def _explained(self, anomaly: Anomaly, data_start: date) -> Anomaly:
        cfg = self.config.anomalies
        start = anomaly.day - timedelta(days=anomaly.baseline_days)
        rows = spend.cause_rows(self.con, anomaly.dimension, anomaly.value, anomaly.day,
                                max(start, data_start), anomaly.baseline_days)
        causes = anomalies.ranked_causes(rows, anomaly.impact, cfg.root_cause_floor,
                                         cfg.root_cause_share)
        resources = sorted({str(c.keys["resource_id"]) for c in causes
                            if c.keys.get("resource_id")})
        clusters = sorted({str(c.keys["cluster"]) for c in causes if c.keys.get("cluster")})
        where = spend.regions(self.con, resources, clusters, anomaly.day)
        placed = [replace(c, region=where.get(str(c.keys.get("resource_id")))
                          or where.get(f"cluster:{c.keys.get('cluster')}")) for c in causes]
        return replace(anomaly, root_causes=placed)

    def _anomaly(self, anomaly: Anomaly, statuses: list[BudgetStatus],
                 planned: Planned) -> None:
        for dimension, value in [(anomaly.dimension, anomaly.value), *anomaly.also]:
            known = state.known_anomaly(self.con, dimension, value, anomaly.day)
            if known:  # the same anomaly, still going: one anomaly is one alert
                state.extend_anomaly(self.con, known["key"], anomaly.day, anomaly.impact,
                                     self.now)
                return
        status = self._budget_of(anomaly, statuses)
        if status and status.budget.name in self.snoozed:
            planned.quiet.append(status.budget.name)
            return
        key = f"anomaly:{anomaly.dimension}:{anomaly.value}:{anomaly.day}"
        where = self._place_anomaly(key, anomaly, status, planned)
        state.record_anomaly(self.con, key, anomaly.as_dict(), where, self.now)

    def _budget_of(self, anomaly: Anomaly, statuses: list[BudgetStatus]) -> BudgetStatus | None:
        """The budget whose scope is exactly the anomaly's."""
        for status in statuses:
            b = status.budget
            if anomaly.dimension == "team" and b.team == anomaly.value and not b.filter:
                return status
            column = FILTER_OF.get(anomaly.dimension)
            if column and not b.team and b.filter == {column: anomaly.value}:
                return status
        return None

    def _place_anomaly(self, key: str, anomaly: Anomaly, status: BudgetStatus | None,
                       planned: Planned) -> tuple[str | None, str | None]:
        url = team_url(self.settings, anomaly.team)
        if status and status.budget.notify != "immediate":
            dest = self._destination(status.budget)
            self._event(status.budget, dest, key, compose.anomaly_message(
                anomaly, url, locale=self.settings.locale)["text"], anomaly.as_dict())
            return None, None
        found = state.conversation(self.con, status.conversation) if status else None
        if found:
            payload = compose.anomaly_message(anomaly, url, in_thread=True,
                                              locale=self.settings.locale)
            self._enqueue(Row(key, "anomaly", anomaly.team, found.channel, found.transport,
                              payload, "reply", found.key), planned)
            return found.key, key
        monitor = self.config.monitor(anomaly.dimension)
        dest = team_destination(self.config, self.settings, anomaly.team,
                                monitor.channel if monitor else None)
        payload = compose.anomaly_message(anomaly, url, locale=self.settings.locale)
        self._enqueue(Row(key, "anomaly", anomaly.team, dest.channel, dest.transport, payload,
                          "post", key), planned)
        state.open_conversation(self.con, Conversation(
            key, "anomaly", anomaly.scope, None, anomaly.team, dest.channel, dest.transport,
            key, None, payload), self.now)
        return key, key

    # -- digests and reports -------------------------------------------------------------------
    def _scheduled(self, statuses: list[BudgetStatus], span: tuple[date, date] | None,
                   planned: Planned) -> None:
        waiting = state.waiting_events(self.con)
        for (channel, transport, cadence, period), events in digest.due_digests(
                waiting, self.now).items():
            key = f"digest:budgets:{cadence}:{period}:{transport}:{channel}"
            self._enqueue(Row(key, "digest", None, channel, transport,
                              digest.budget_digest(events, cadence, period)), planned)
            state.mark_digested(self.con, [e["event_key"] for e in events], key)
        for report in self.config.budget_reports:
            key = f"report:{report.team}:{report.every}:" \
                  f"{digest.period_of(report.every, self.now.date())}"
            if not outbox.exists(self.con, key):
                dest = team_destination(self.config, self.settings, report.team, report.channel)
                payload = digest.team_report(report.team, statuses,
                                             team_url(self.settings, report.team),
                                             self.settings.locale)
                self._enqueue(Row(key, "report", report.team, dest.channel, dest.transport,
                                  payload), planned)
        if span:
            self._unowned(min(planned.day, span[1]), planned)

    def _unowned(self, through: date, planned: Planned) -> None:
        key = digest.unowned_key(through)
        if outbox.exists(self.con, key):
            return
        payload = digest.unowned_digest(
            self.con, through, self.settings.locale,
            sections=digest.digest_sections(self.con, self.config, through))
        if payload:
            self._enqueue(Row(key, "digest", None, self.settings.slack.platform_channel,
                              "slack", payload), planned)
