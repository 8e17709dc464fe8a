"""Alerts people act on: budgets, forecasts and anomalies, told through one conversation per
budget and period, delivered through an outbox that survives what channels answer.

Modules: ``budgets`` (evaluate a budget, pure), ``forecast`` (period totals with a calibrated
interval, pure), ``anomalies`` (monitors and root causes, pure), ``spend`` (what they read
from the warehouse), ``compose`` (messages), ``digest`` (scheduled digests and reports),
``plan`` (what a check writes to the outbox), ``outbox`` and ``state`` (the tables),
``channels`` (Slack, webhook, email), ``delivery`` and ``journal`` (sending without holding
the warehouse lock), ``interactions`` (acknowledge and snooze from Slack), ``check`` (one
whole check), ``reads`` (what the API reads).

May import ``models``, ``finops.settings``, ``finops.warehouse``, ``finops.fx`` and the
governance digest section; never the CLI, the API or the pipeline. The API and the CLI import
these modules directly.
"""

from finops.alerts.channels import team_destination
from finops.alerts.digest import digest_sections, unowned_digest
from finops.alerts.plan import team_url
from finops.alerts.reads import budget_status, list_alerts

__all__ = ["budget_status", "digest_sections", "list_alerts", "team_destination", "team_url",
           "unowned_digest"]
