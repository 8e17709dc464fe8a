"""``finops config check``: what a ``finops.yaml`` will make finops do, and what looks wrong.

``describe`` turns a valid config into plain lines (teams, ownership, allocation policy,
budgets with thresholds and channels, token names and roles: never their hashes);
``warnings`` finds what validation cannot reject but an operator should hear about;
``data_warnings`` compares the config with what a published warehouse actually holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

import duckdb

from finops.alerts import team_destination
from finops.alerts.spend import unseen_scopes
from finops.api.auth import auth_configured
from finops.settings import Settings
from models.config import Budget, FinOpsConfig, MappingRule

NONE = "(none)"
SIGNING_SECRET_WARNING = ("FINOPS_SLACK__SIGNING_SECRET is not set: the Acknowledge / Snooze "
                          "buttons of budget messages are refused (404) until it is")


def _join(values: Sequence[str], sep: str = ", ") -> str:
    return sep.join(values) if values else NONE


def describe(config: FinOpsConfig, settings: Settings) -> list[str]:
    return [*_teams(config), "", *_ownership(config), "", *_allocation(config), "",
            *_currency(config), "", *_budgets(config, settings), "", *_channels(config), "",
            *_monitors(config), "", *_governance(config), "", *_tokens(config)]


def _currency(config: FinOpsConfig) -> list[str]:
    chosen = (config.reporting_currency or "not set: the currency of the largest share of "
              "the bill being allocated")
    lines = [f"Reporting currency: {chosen}",
             f"  exchange rates in finops.yaml: {len(config.fx.rates) or NONE} (then rates "
             "loaded with `finops fx load`; an export's own rate comes first)"]
    lines += [f"    1 {r.from_currency} = {r.rate:g} {r.to} for {r.month or r.day}"
              for r in config.fx.rates]
    return lines


def _teams(config: FinOpsConfig) -> list[str]:
    if not config.teams:
        return ["Teams: none declared: every team label value seen becomes a team"]
    lines = [f"Teams ({len(config.teams)}):"]
    for team in config.teams:
        extra = f"  aliases: {_join(team.aliases)}" if team.aliases else ""
        lines.append(f"  {team.name:<20} {team.slack_channel or '(no channel)'}{extra}")
    return lines


def _ownership(config: FinOpsConfig) -> list[str]:
    own = config.ownership
    lines = [f"Ownership chain: {_join(own.chain, ' -> ')}",
             f"  label keys (pods, workloads, namespaces): {_join(own.label_keys)}",
             f"  tag keys (cloud resources): {_join(own.tag_keys)}",
             f"  mappings: {len(own.mappings) or NONE}"]
    lines += [f"    {rule.team:<18} {_selectors(rule)}" for rule in own.mappings]
    lines.append(f"  Backstage catalog: {own.backstage_catalog or NONE}")
    owners = [f"{cluster} -> {team}" for cluster, team in sorted(own.cluster_owners.items())]
    lines.append(f"  cluster owners (own their idle): {_join(owners)}")
    return lines


def _selectors(rule: MappingRule) -> str:
    parts = [f"{name}: {_join(values)}" for name, values in (
        ("namespaces", rule.namespaces), ("clusters", rule.clusters),
        ("aws_accounts", rule.aws_accounts), ("gcp_projects", rule.gcp_projects),
        ("azure_subscriptions", rule.azure_subscriptions)) if values]
    parts += [f"tag {key}={value}" for key, value in rule.tags.items()]
    return "; ".join(parts) or "(matches nothing)"


def _allocation(config: FinOpsConfig) -> list[str]:
    alloc = config.allocation
    prices = alloc.prices
    return [f"Allocation: basis {alloc.basis}, idle {alloc.idle}, "
            f"taxes and credits {alloc.tax_and_credits}",
            f"  shared namespaces ({alloc.shared_split} split): "
            f"{_join(alloc.shared_namespaces)}",
            f"  reference prices per hour ({prices.currency}): cpu {prices.cpu_hour:g}, "
            f"RAM GiB {prices.ram_gib_hour:g}, GPU {prices.gpu_hour:g}"]


def _budgets(config: FinOpsConfig, settings: Settings) -> list[str]:
    if not config.budgets:
        return ["Budgets: none"]
    lines = [f"Budgets ({len(config.budgets)}):"]
    for budget in config.budgets:
        dest = team_destination(config, settings, budget.team, budget.channel)
        where = dest.channel if dest.transport == "slack" else f"{dest.channel} ({dest.transport})"
        lines.append(f"  {budget.name:<22} {_scope(budget)}, per {budget.period}: "
                     f"{budget.amount:,.2f} {budget.currency}; {_thresholds(budget)}; "
                     f"to {where}, {budget.notify}")
        lines += [f"    {t.kind} {t.percent:g} % also to {_join(t.also_to)}"
                  for t in budget.thresholds if t.also_to]
    lines += [f"  report for {r.team}: {r.every}" + (f" to {r.channel}" if r.channel else "")
              for r in config.budget_reports]
    return lines


def _channels(config: FinOpsConfig) -> list[str]:
    if not config.channels:
        return ["Channels: Slack channels only (none declared)"]
    lines = [f"Channels ({len(config.channels)}):"]
    for channel in config.channels:
        target = {"slack": channel.slack_channel, "webhook": channel.url,
                  "email": _join(channel.to)}[channel.type]
        lines.append(f"  {channel.name:<22} {channel.type}: {target}")
    return lines


def _monitors(config: FinOpsConfig) -> list[str]:
    anomalies = config.anomalies
    lines = [f"Anomaly monitors ({len(anomalies.monitors)}; baseline "
             f"{anomalies.baseline_days} days, changed days re-checked "
             f"{anomalies.recheck_days} days back):"]
    lines += [f"  {m.dimension:<10} min impact {m.min_impact:g}, robust z >= {m.threshold:g}, "
              f"change >= {m.min_change:.0%}" for m in anomalies.monitors]
    return lines


def _scope(budget: Budget) -> str:
    parts = [f"team {budget.team}"] if budget.team else []
    parts += [f"{column}={value}" for column, value in budget.filter.items()]
    return " and ".join(parts)


def _thresholds(budget: Budget) -> str:
    kinds = []
    for kind in ("actual", "forecast"):
        percents = [f"{t.percent:g}" for t in budget.thresholds if t.kind == kind]
        if percents:
            kinds.append(f"{kind} {'/'.join(percents)} %")
    return ", ".join(kinds) or "no thresholds"


def _governance(config: FinOpsConfig) -> list[str]:
    gov = config.governance
    lines = [f"Governance: platform namespaces (not tenants'): "
             f"{_join(gov.platform_namespaces)}",
             f"  exemptions: {len(gov.exemptions) or NONE}"]
    today = date.today()
    lines += [f"    {e.name:<24} {_join(e.namespaces)} from {_join(list(e.policies))} until "
              f"{e.until}{' (expired)' if e.until < today else ''}; {e.who}: {e.why}"
              for e in gov.exemptions]
    return lines


def _tokens(config: FinOpsConfig) -> list[str]:
    if not config.api_tokens:
        return ["API tokens: none"]
    lines = [f"API tokens ({len(config.api_tokens)}; only their SHA-256 is stored):"]
    lines += [f"  {token.name:<24} {token.role}" for token in config.api_tokens]
    return lines


def warnings(config: FinOpsConfig, *, data_checked: bool = False,
             settings: Settings | None = None) -> list[str]:
    """What is valid but probably not meant. With ``data_checked`` (``data_warnings`` ran on a
    warehouse) budget teams were checked against the data already, which says more."""
    found: list[str] = []
    if not auth_configured(config):
        found.append("no api_tokens: `finops serve` will refuse to start (only `--no-auth` "
                     "on a loopback address runs it)")
    repeated = [name for name, n in Counter(t.sha256 for t in config.api_tokens).items()
                if n > 1]
    if repeated:
        names = [t.name for t in config.api_tokens if t.sha256 in repeated]
        found.append(f"api_tokens {names} share one token hash: only the first one's role "
                     "is ever used")
    if not config.teams and not data_checked:
        found += [f"budget {b.name!r} names team {b.team!r}, but no teams are declared: it "
                  "counts only if that exact label value is seen" for b in config.budgets
                  if b.team]
    catalog = config.ownership.backstage_catalog
    if catalog is not None and not catalog.exists():
        found.append(f"ownership.backstage_catalog: {catalog} does not exist")
    return found + channel_warnings(config, settings)


def channel_warnings(config: FinOpsConfig, settings: Settings | None) -> list[str]:
    """Declared channels that cannot send with these settings."""
    if settings is None:
        return []
    found = [f"channel {c.name!r}: no signing secret in FINOPS_WEBHOOK__SECRETS: its messages "
             "will be dead-lettered" for c in config.channels
             if c.type == "webhook" and c.name not in settings.webhook.secrets]
    if any(c.type == "email" for c in config.channels) and settings.smtp.host is None:
        found.append("email channels are declared but FINOPS_SMTP__HOST is not set: email "
                     "stops at the first message of every `budgets check --send`")
    slack_on = settings.slack.token is not None
    if config.budgets and slack_on and settings.slack.signing_secret is None:
        found.append(SIGNING_SECRET_WARNING)
    return found


def data_warnings(config: FinOpsConfig, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Budget teams and filter values that the warehouse's allocation has never seen."""
    return unseen_scopes(config, con)
