"""The ``finops.yaml`` model: teams, ownership rules, allocation policy, budgets, API tokens.

This file is reviewed in Git; its history is the audit trail of who owns what and which
budgets exist. ``load_config`` turns any validation problem into a ``ConfigError`` that names
the key path (``budgets[2].thresholds[0].percent``) and what was expected.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from models.currency import check_currency
from models.errors import ConfigError

# libyaml's safe loader where PyYAML was built with it (its wheels are): the same documents
# and errors as the pure-Python one, ~4x faster (a 10 KB finops.yaml: 38 -> 10 ms, every
# command's start-up).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# An ISO 4217 code (checked against the list, upper-cased): ``usd`` is read as USD.
Currency = Annotated[str, AfterValidator(check_currency)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Team(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    slack_channel: str | None = None
    aliases: list[str] = []  # other spellings seen in labels/tags: "Payments", "team-payments"
    cost_center: str | None = None


class MappingRule(Strict):
    """A ``finops.yaml`` ownership mapping: any listed selector that matches claims the cost."""

    team: str
    namespaces: list[str] = []  # fnmatch globs, e.g. "payments-*"
    clusters: list[str] = []  # restricts `namespaces` to these clusters when set
    aws_accounts: list[str] = []
    gcp_projects: list[str] = []
    azure_subscriptions: list[str] = []
    tags: dict[str, str] = {}  # tag key -> value (exact)


OwnershipStep = Literal[
    "pod-label",
    "workload-label",
    "namespace-label",
    "namespace-annotation",
    "mapping",
    "backstage",
]


class Ownership(Strict):
    chain: list[OwnershipStep] = list(get_args(OwnershipStep))  # every step, in that order
    label_keys: list[str] = ["team"]  # pod/workload/namespace label and annotation keys
    tag_keys: list[str] = ["team", "user:team", "user_team"]  # cloud resource tags/labels
    mappings: list[MappingRule] = []
    backstage_catalog: Path | None = None  # a catalog-info.yaml tree or entity JSON file
    cluster_owners: dict[str, str] = {}  # cluster -> team that owns its idle (idle=separate)


class Prices(Strict):
    """Reference prices per hour that split a node's cost into CPU/RAM/GPU (OpenCost's), in
    ``currency``; they, ``storage_gib_hour`` and ``instance_hour`` also price what the bill
    does not cover yet (estimates, converted from ``currency`` like any other amount)."""

    cpu_hour: float = Field(0.031611, gt=0)
    ram_gib_hour: float = Field(0.004237, gt=0)
    gpu_hour: float = Field(0.95, gt=0)
    storage_gib_hour: float = Field(0.00005479452, ge=0)
    by_node_label: dict[str, dict[str, float]] = {}  # "label=value" -> {cpu_hour: …}
    instance_hour: dict[str, float] = {}  # configured fallback node price by instance type
    currency: Currency = "USD"  # OpenCost's defaults are US dollars


class Allocation(Strict):
    basis: Literal["max", "request", "usage", "quota"] = "max"
    idle: Literal["separate", "share-by-cost", "share-by-request", "share-by-quota"] = "separate"
    shared_namespaces: list[str] = []
    shared_split: Literal["weighted", "even"] = "weighted"
    tax_and_credits: Literal["unowned", "follow-spend"] = "unowned"
    prices: Prices = Prices()
    # Bill tags that name the Kubernetes cluster a cloud line belongs to (control-plane fees,
    # cluster network); such lines are spread inside that cluster instead of being cloud spend.
    cluster_tag_keys: list[str] = [
        "aws:eks:cluster-name",
        "eks:cluster-name",
        "user:eks:cluster-name",
        "goog-k8s-cluster-name",
        "kubernetes_cluster",
        "user:kubernetes_cluster",
    ]


class Threshold(Strict):
    percent: float = Field(gt=0, le=1000)
    kind: Literal["actual", "forecast"] = "actual"
    # Recipients of this threshold's crossing besides the budget's conversation: Slack
    # channels (#name or an ID) or names of declared `channels` (email, webhook).
    also_to: list[str] = []


Cadence = Literal["daily", "weekly"]


class Budget(Strict):
    name: str = Field(min_length=1)
    team: str | None = None  # scope: a team, or a filter below
    filter: dict[str, str] = {}  # column -> value on allocation (provider, cluster, …)
    period: Literal["week", "month", "quarter"] = "month"
    amount: float = Field(gt=0)
    currency: Currency = "USD"  # compared at the stated rates when not the reporting currency
    thresholds: list[Threshold] = [
        Threshold(percent=50),
        Threshold(percent=80),
        Threshold(percent=100),
        Threshold(percent=100, kind="forecast"),
    ]
    # Where the budget's conversation lives: a Slack channel (#name or an ID) or the name of
    # a declared channel; default: the team's Slack channel, else the platform channel.
    channel: str | None = None
    # immediate: each check posts what is new; daily / weekly: gathered into one digest.
    notify: Literal["immediate"] | Cadence = "immediate"
    starts: date | None = None

    @model_validator(mode="after")
    def _has_scope(self) -> Budget:
        if not self.team and not self.filter:
            raise ValueError("a budget needs a scope: `team` or `filter`")
        return self


# A Slack channel as finops.yaml names it: `#name` (Slack's rules: lower case, digits, `-`,
# `_`, `.`, at most 80 characters) or a conversation ID (C…, G… or D…).
SLACK_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{8,20})$")
EMAIL = re.compile(r"^[^@\s<>,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


class Channel(Strict):
    """A declared destination other than a bare Slack channel: a Slack channel under a name,
    a generic webhook (JSON, signed with HMAC-SHA256; its secret comes from the environment,
    ``FINOPS_WEBHOOK__SECRETS``), or email recipients (sent through ``FINOPS_SMTP__*``)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    type: Literal["slack", "webhook", "email"]
    slack_channel: str | None = None
    url: str | None = None
    to: list[str] = []

    @model_validator(mode="after")
    def _complete(self) -> Channel:
        given = {"slack": self.slack_channel, "webhook": self.url, "email": self.to or None}
        extra = [k for k, v in given.items() if v and k != self.type]
        if extra:
            raise ValueError(f"a {self.type} channel takes no {_field_of(extra[0])}")
        if self.type == "slack":
            _check_slack(self.slack_channel, "slack_channel")
        elif self.type == "webhook":
            _check_url(self.url)
        else:
            _check_emails(self.to)
        return self


def _field_of(kind: str) -> str:
    return {"slack": "`slack_channel`", "webhook": "`url`", "email": "`to`"}[kind]


def _check_slack(value: str | None, key: str) -> None:
    if value is None:
        raise ValueError(f"`{key}` is required: a Slack channel such as #team-costs")
    if not SLACK_CHANNEL.match(value):
        raise ValueError(f"`{key}`: {value!r} is not a Slack channel (#name in lower case, "
                         "or an ID such as C0123456789)")


def _check_url(url: str | None) -> None:
    if url is None:
        raise ValueError("`url` is required for a webhook")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"`url`: {url!r} is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"`url`: {url!r}: use https (plain http only to a loopback address)")


def _check_emails(addresses: list[str]) -> None:
    if not addresses:
        raise ValueError("`to` is required for an email channel: one or more addresses")
    bad = [a for a in addresses if not EMAIL.match(a)]
    if bad:
        raise ValueError(f"`to`: not email addresses: {bad}")


DIMENSIONS = ("team", "unowned", "account", "service", "cluster")


class Monitor(Strict):
    """An anomaly monitor: each value of ``dimension`` (every team; unowned spend as one
    scope; each account/project/subscription; each cloud service; each cluster) is checked
    day by day against its own baseline. A day is an anomaly when its spend is ``threshold``
    robust z-scores above the baseline median, at least ``min_change`` (a fraction) above
    the baseline mean and at least ``min_impact`` above it in the reporting currency. The
    defaults catch a +30 % step of a scope spending 10 a day."""

    dimension: Literal["team", "unowned", "account", "service", "cluster"]
    min_impact: float = Field(1.0, ge=0)
    threshold: float = Field(3.0, gt=0)
    min_change: float = Field(0.2, ge=0)
    channel: str | None = None  # default: the team's channel, else the platform channel


class Anomalies(Strict):
    monitors: list[Monitor] = [Monitor(dimension=d) for d in DIMENSIONS]  # type: ignore[arg-type]
    baseline_days: int = Field(14, ge=3, le=90)
    min_baseline_days: int = Field(7, ge=2, le=90)
    # Days whose allocated data changed since the last check (late data, restatements) are
    # checked again if they lie at most this many days back.
    recheck_days: int = Field(45, ge=1, le=400)
    # Root causes smaller than max(root_cause_floor, root_cause_share × impact) are dropped.
    root_cause_floor: float = Field(0.5, ge=0)
    root_cause_share: float = Field(0.05, ge=0, le=1)

    @field_validator("monitors")
    @classmethod
    def _one_per_dimension(cls, monitors: list[Monitor]) -> list[Monitor]:
        names = [m.dimension for m in monitors]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"one monitor per dimension, repeated: {repeated}")
        return monitors


class BudgetReport(Strict):
    """A scheduled report of a team's budgets (status, forecast, what crossed), posted by
    ``finops budgets check --send`` once a day or once a week."""

    team: str
    every: Cadence = "weekly"
    channel: str | None = None  # default: the team's Slack channel


PolicyName = Literal["team-label", "resource-quota"]
POLICIES: tuple[PolicyName, ...] = get_args(PolicyName)


class Exemption(Strict):
    """A declared exception to the governance policies: who asked, why, and until when.

    While ``until`` has not passed, the namespaces it names are not held to ``policies`` (the
    admission policies skip them, findings mark them exempt); afterwards it counts as expired.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    namespaces: list[str] = Field(min_length=1)  # fnmatch globs, e.g. "sandbox-*"
    clusters: list[str] = []  # restricts `namespaces` to these clusters when set
    policies: list[PolicyName] = list(POLICIES)
    who: str = Field(min_length=1)
    why: str = Field(min_length=1)
    until: date  # last day the exemption holds (inclusive, UTC)


class Governance(Strict):
    """Which namespaces are tenants' (held to the team label and a ResourceQuota), and the
    declared exemptions. Shared namespaces (``allocation.shared_namespaces``) and the
    platform's own namespaces are not tenants'."""

    platform_namespaces: list[str] = ["kube-system", "kube-public", "kube-node-lease"]  # globs
    exemptions: list[Exemption] = []

    @field_validator("exemptions")
    @classmethod
    def _unique_exemptions(cls, exemptions: list[Exemption]) -> list[Exemption]:
        names = [e.name for e in exemptions]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"exemption names must be unique, repeated: {duplicates}")
        return exemptions


Role = Annotated[str, StringConstraints(pattern=r"^(finance|platform|team:[a-z0-9][a-z0-9_-]*)$")]


class ApiToken(Strict):
    """A bearer token, stored as its SHA-256 hex digest (never the token itself)."""

    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: Role


class Sso(Strict):
    """People signed in by an SSO proxy (oauth2-proxy and similar): its group -> a role.

    The headers are believed only from the proxy addresses in ``FINOPS_AUTH__TRUSTED_PROXIES``.
    """

    user_header: str = "X-Forwarded-User"
    groups_header: str = "X-Forwarded-Groups"  # comma-separated group names
    groups: dict[str, Role] = {}  # e.g. {"finops-finance": "finance", "team-pay": "team:pay"}


Duration = Annotated[str, StringConstraints(pattern=r"^\d+[smhd]$")]


class AwsCurSource(Strict):
    """An AWS CUR export: ``finops ingest aws-cur URI [--endpoint-url …] [--profile …]``."""

    uri: str  # s3://bucket/prefix, or a local copy laid out like the bucket
    endpoint_url: str | None = None
    profile: str | None = None


class PrometheusSource(Strict):
    """Prometheus history: each cycle reads the ``lookback`` complete hours before now
    (``finops ingest prometheus --start now-lookback --end now``, hour-aligned); a window
    read again replaces itself, so late samples are picked up by the next cycle."""

    url: str | None = None  # default: FINOPS_PROMETHEUS__URL
    lookback: Duration = "3h"
    cluster: str | None = None
    cluster_label: str | None = None


class KubernetesSource(Strict):
    """A live cluster: one snapshot per cycle (``finops ingest k8s``), counting for ``every``
    (the cycle's schedule; a separate 5-minute collector is finer, see deploy/)."""

    cluster: str = "default"
    context: str | None = None
    kubeconfig: Path | None = None
    every: Duration = "1h"


class Sources(Strict):
    """What ``finops run`` ingests each cycle, each optional; every entry runs as the
    ``finops ingest …`` command it names, in its own process. Paths may be directories (their
    files are taken in name order); bill paths may be ``s3://`` prefixes where the command
    takes them (``focus``, ``aws_cur``)."""

    aws_cur: list[AwsCurSource | str] = []
    gcp_billing: list[str] = []  # files, directories, or bq://project.dataset.table
    azure: list[str] = []
    focus: list[str] = []
    prometheus: PrometheusSource | None = None
    kubernetes: list[KubernetesSource] = []
    usage: list[str] = []  # recorded usage directories (day=* recordings)


class FxRate(Strict):
    """One exchange rate: 1 ``from`` = ``rate`` ``to``, for a calendar ``month`` (``2026-10``)
    or a ``day``; it converts both ways (the other way at 1 / rate)."""

    from_currency: Currency = Field(alias="from")
    to: Currency
    month: str | None = None
    day: date | None = None
    rate: float = Field(gt=0, allow_inf_nan=False)

    @field_validator("month")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                date.fromisoformat(f"{value}-01")
            except ValueError:
                raise ValueError(f"{value!r} is not a month such as 2026-10") from None
        return value

    @model_validator(mode="after")
    def _one_period(self) -> FxRate:
        if (self.month is None) == (self.day is None):
            raise ValueError("give exactly one of `month` (2026-10) or `day` (2026-10-02)")
        if self.from_currency == self.to:
            raise ValueError(f"`from` and `to` are both {self.to}")
        return self


class Fx(Strict):
    """Exchange rates stated in finops.yaml; used where an export carries no rate of its own,
    before the rates loaded with ``finops fx load`` (see ``finops.fx``)."""

    rates: list[FxRate] = []


class FinOpsConfig(Strict):
    # The currency every report is in; unset: the currency of the largest share of the bill.
    reporting_currency: Currency | None = None
    fx: Fx = Fx()
    teams: list[Team] = []
    ownership: Ownership = Ownership()
    allocation: Allocation = Allocation()
    budgets: list[Budget] = []
    channels: list[Channel] = []
    anomalies: Anomalies = Anomalies()
    budget_reports: list[BudgetReport] = []
    api_tokens: list[ApiToken] = []
    sso: Sso = Sso()
    sources: Sources = Sources()
    governance: Governance = Governance()

    @field_validator("teams")
    @classmethod
    def _unique_teams(cls, teams: list[Team]) -> list[Team]:
        names = [t.name for t in teams]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"team names must be unique, repeated: {duplicates}")
        return teams

    @field_validator("budgets")
    @classmethod
    def _unique_budgets(cls, budgets: list[Budget]) -> list[Budget]:
        # Alerts are keyed by budget name: a second budget of the same name would never alert.
        first: dict[str, int] = {}
        for i, budget in enumerate(budgets):
            if budget.name in first:
                raise ValueError(f"budgets[{i}].name: {budget.name!r} is the name of "
                                 f"budgets[{first[budget.name]}] too; budget names must be "
                                 "unique")
            first[budget.name] = i
        return budgets

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, channels: list[Channel]) -> list[Channel]:
        names = [c.name for c in channels]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"channel names must be unique, repeated: {duplicates}")
        return channels

    @model_validator(mode="after")
    def _known_channels(self) -> FinOpsConfig:
        declared = {c.name for c in self.channels}
        bad = [f"{where}: {ref!r}" for where, ref in self.channel_refs()
               if ref not in declared and not SLACK_CHANNEL.match(ref)]
        if bad:
            names = ", ".join(sorted(declared)) or "none declared"
            raise ValueError(f"neither a Slack channel (#name in lower case, or an ID such as "
                             f"C0123456789) nor a declared channel ({names}): {bad}")
        return self

    def channel_refs(self) -> list[tuple[str, str]]:
        """Every place that names a destination, with its key path."""
        refs = [(f"teams[{i}].slack_channel", t.slack_channel)
                for i, t in enumerate(self.teams)]
        for i, b in enumerate(self.budgets):
            refs.append((f"budgets[{i}].channel", b.channel))
            refs += [(f"budgets[{i}].thresholds[{j}].also_to[{k}]", ref)
                     for j, t in enumerate(b.thresholds) for k, ref in enumerate(t.also_to)]
        refs += [(f"budget_reports[{i}].channel", r.channel)
                 for i, r in enumerate(self.budget_reports)]
        refs += [(f"anomalies.monitors[{i}].channel", m.channel)
                 for i, m in enumerate(self.anomalies.monitors)]
        return [(where, ref) for where, ref in refs if ref is not None]

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def monitor(self, dimension: str) -> Monitor | None:
        return next((m for m in self.anomalies.monitors if m.dimension == dimension), None)

    @model_validator(mode="after")
    def _known_teams(self) -> FinOpsConfig:
        if not self.teams:
            return self  # zero-config: teams are discovered from labels
        known = {t.name for t in self.teams}
        named = [("ownership.mappings", m.team) for m in self.ownership.mappings]
        named += [("budgets", b.team) for b in self.budgets if b.team]
        named += [("budget_reports", r.team) for r in self.budget_reports]
        named += [("api_tokens", t.role[5:]) for t in self.api_tokens if t.role.startswith("team:")]
        named += [("sso.groups", r[5:]) for r in self.sso.groups.values() if r.startswith("team:")]
        unknown = [f"{where}: {team!r}" for where, team in named if team not in known]
        if unknown:
            raise ValueError(f"names a team that is not declared under `teams`: {unknown}")
        return self

    @property
    def declared_teams(self) -> set[str]:
        return {t.name for t in self.teams}

    def team_aliases(self) -> dict[str, str]:
        """Every accepted spelling (lower-cased) -> canonical team name."""
        out: dict[str, str] = {}
        for team in self.teams:
            out[team.name.lower()] = team.name
            out.update({alias.lower(): team.name for alias in team.aliases})
        return out

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def parse_config(data: object, source: str = "finops.yaml") -> FinOpsConfig:
    try:
        return FinOpsConfig.model_validate(data or {})
    except ValidationError as exc:
        problems = [f"{_key_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{source}: " + "; ".join(problems)) from None


def load_config(path: Path | None) -> FinOpsConfig:
    """Read ``finops.yaml``; no path means zero-config defaults. A path that names no file is
    an error, never a silent fall back to defaults (budgets and mappings would vanish)."""
    if path is None:
        return FinOpsConfig()
    try:
        data = yaml.load(path.read_text(), Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, str(path))
