"""The ``finops.yaml`` model: teams, ownership rules, allocation policy, budgets, API tokens.

This file is reviewed in Git; its history is the audit trail of who owns what and which
budgets exist. ``load_config`` turns any validation problem into a ``ConfigError`` that names
the key path (``budgets[2].thresholds[0].percent``) and what was expected.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, get_args

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


class Budget(Strict):
    name: str
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
    channel: str | None = None  # defaults to the team's Slack channel
    starts: date | None = None

    @model_validator(mode="after")
    def _has_scope(self) -> Budget:
        if not self.team and not self.filter:
            raise ValueError("a budget needs a scope: `team` or `filter`")
        return self


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

    @model_validator(mode="after")
    def _known_teams(self) -> FinOpsConfig:
        if not self.teams:
            return self  # zero-config: teams are discovered from labels
        known = {t.name for t in self.teams}
        named = [("ownership.mappings", m.team) for m in self.ownership.mappings]
        named += [("budgets", b.team) for b in self.budgets if b.team]
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
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, str(path))
