"""One check, from the warehouse to the channels: what ``finops budgets check [--send]`` (and
``finops run``) call.

1. Under the warehouse's writer lock: apply what a killed delivery left in the journal,
   evaluate budgets and anomalies and write the outbox (``plan``), claim what is to be
   delivered (``outbox.claim``); publish.
2. Without the lock: deliver (``delivery``), journaling each outcome.
3. Under the lock again: apply the journal to the outbox; publish.

Only one delivering check runs per warehouse at a time (``journal.DeliveryLock``). Without
``send`` it is a dry run: the outbox is written, nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

from finops.alerts import outbox, spend
from finops.alerts.channels import Transport
from finops.alerts.channels import slack as slack_channel
from finops.alerts.channels.email import EmailTransport
from finops.alerts.channels.webhook import WebhookTransport
from finops.alerts.delivery import Delivery, Report
from finops.alerts.interactions import InteractionStore
from finops.alerts.journal import DeliveryLock, Journal, journal_path
from finops.alerts.plan import Planned, Planner
from finops.settings import Settings
from finops.warehouse import Warehouse
from models.config import FinOpsConfig

Writer = Callable[[], AbstractContextManager[Warehouse]]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class CheckResult:
    planned: Planned
    warnings: list[str] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)  # dry run: what would go
    report: Report | None = None
    counts: dict[str, int] = field(default_factory=dict)  # the outbox afterwards


def transports(config: FinOpsConfig, settings: Settings) -> dict[str, Transport]:
    """Every transport the config can need (Slack always: the platform digest)."""
    built: dict[str, Transport] = {
        "slack": slack_channel.SlackTransport(slack_channel.client(settings))}
    kinds = {c.type for c in config.channels}
    if "webhook" in kinds:
        built["webhook"] = WebhookTransport(config, settings)
    if "email" in kinds:
        built["email"] = EmailTransport(config, settings)
    return built


def check(writer: Writer, config: FinOpsConfig, settings: Settings, *,
          as_of: date | None = None, send: bool = False, now: datetime | None = None,
          delivering: dict[str, Transport] | None = None) -> CheckResult:
    now = now or utcnow()
    presses = InteractionStore(settings.interactions_path).presses()
    if not send:
        with writer() as wh, wh.outbox() as con:
            planned = Planner(con, config, settings, now, presses).run(as_of)
            return CheckResult(planned, spend.unseen_scopes(config, con), outbox.pending(con),
                               counts=outbox.counts(con))
    delivering = delivering or transports(config, settings)  # no token: fail before work
    with DeliveryLock(settings.db, settings.lock_timeout_s):
        return _deliver(writer, config, settings, as_of, now, presses, delivering)


def _deliver(writer: Writer, config: FinOpsConfig, settings: Settings, as_of: date | None,
             now: datetime, presses: list[dict[str, Any]],
             delivering: dict[str, Transport]) -> CheckResult:
    run = f"deliver-{now:%Y%m%dT%H%M%S}-{uuid4().hex[:8]}"
    journal = Journal(journal_path(settings.db))
    with writer() as wh, wh.outbox() as con:
        _leftovers(con, journal, settings)
        planned = Planner(con, config, settings, now, presses).run(as_of)
        result = CheckResult(planned, spend.unseen_scopes(config, con))
        claimed = outbox.claim(con, run, now)
    try:
        result.report = Delivery(delivering, settings.slack, journal, run).run_all(claimed)
    finally:
        with writer() as wh, wh.outbox() as con:
            outbox.apply(con, journal.read(), run, settings.slack.max_attempts, utcnow())
            journal.clear()
            result.counts = outbox.counts(con)
    return result


def _leftovers(con: Any, journal: Journal, settings: Settings) -> None:
    """What a killed delivery journaled, recorded before anything is claimed again."""
    entries = journal.read()
    if entries:
        outbox.apply(con, entries, None, settings.slack.max_attempts, utcnow())
        journal.clear()
