"""Pydantic models of the API's requests and responses (they are the OpenAPI schema).

Money is a float in the reporting currency of the allocation, named by the ``currency`` field
of every payload that carries money (an ISO 4217 code; null when the window has no data),
rounded to the cent on the way out; days are ISO dates. Every error, whatever raised it, has
the ``ErrorBody`` shape.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

Aggregate = Literal[
    "team", "namespace", "cluster", "provider", "cost_kind", "service",
    "sub_account", "billing_account", "reason", "workload",
]
Step = Literal["day", "week", "month", "window"]

# Every day a request may name lies here (outside: a 422 naming the parameter); far dates would
# overflow date arithmetic (a previous window, a budget period) into a 500.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
DAYS_ACCEPTED = f"{FIRST_DAY} .. {LAST_DAY}"
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]


class ErrorBody(BaseModel):
    """The one error shape: ``ok`` is false, ``status`` repeats the HTTP status."""

    ok: Literal[False] = False
    error: str
    errors: list[str] = []
    status: int


class Health(BaseModel):
    """The process answers; nothing about data or files."""

    ok: bool
    version: str


class SourceAge(BaseModel):
    source: str
    last_ok_at: datetime = Field(description="When its newest successful run was recorded.")
    age_s: float = Field(description="Seconds since then.")


class Readiness(BaseModel):
    """The published snapshot can be read: which generation, how old, and each source's age."""

    ok: bool
    generation: int = Field(description="Snapshot generation this process serves (1, 2, ...; "
                                        "a new one after each publish).")
    published_at: datetime
    snapshot_age_s: float
    sources: list[SourceAge]


class Window(BaseModel):
    start: date
    end: date = Field(description="Last day, inclusive.")


CURRENCY = ("ISO 4217 code of every amount in this payload: the reporting currency of the "
            "allocation (finops.yaml `reporting_currency`, else the currency of the largest "
            "share of the bill); null when the window has no allocated data.")
Currency = Annotated[str | None, Field(description=CURRENCY)]


class AllocationRow(BaseModel):
    period_start: date
    keys: dict[str, str | None] = Field(description="Value of each aggregate dimension.")
    billed_cost: float
    effective_cost: float
    list_cost: float


class AllocationResponse(BaseModel):
    window: Window
    currency: Currency
    aggregate: list[str]
    step: str
    filters: dict[str, list[str]]
    rows: list[AllocationRow]
    total_effective_cost: float


class TeamSummary(BaseModel):
    team: str
    declared: bool
    effective_cost: float
    slack_channel: str | None = None


class TeamsResponse(BaseModel):
    window: Window
    currency: Currency
    teams: list[TeamSummary]


class DayCost(BaseModel):
    day: date
    effective_cost: float


class NamedCost(BaseModel):
    name: str | None
    effective_cost: float


class TeamDetail(BaseModel):
    team: str
    window: Window
    currency: Currency
    total_effective_cost: float
    previous_window_effective_cost: float = Field(
        description="Same-length window just before, for change figures."
    )
    daily: list[DayCost]
    by_cost_kind: list[NamedCost]
    top_namespaces: list[NamedCost]
    top_services: list[NamedCost]


class UnownedItem(BaseModel):
    reason: str | None
    provider: str | None
    sub_account_id: str | None
    cluster: str | None
    namespace: str | None
    service_name: str | None
    resource_id: str | None
    effective_cost: float


class UnownedResponse(BaseModel):
    window: Window
    currency: Currency
    total_effective_cost: float
    by_reason: list[NamedCost]
    top_items: list[UnownedItem]


class CoverageResponse(BaseModel):
    window: Window
    currency: Currency
    total_effective_cost: float
    allocated_effective_cost: float
    unowned_effective_cost: float
    allocated_pct: float | None = Field(description="% of spend allocated to a team.")
    label_coverage: list[dict[str, Any]] | None = Field(
        None, description="Rows of the `label_coverage` view, when the warehouse has it."
    )
    quota_coverage: list[dict[str, Any]] | None = Field(
        None, description="Rows of the `quota_coverage` view, when the warehouse has it."
    )


class BudgetsResponse(BaseModel):
    as_of: date
    currency: Currency = Field(description="The reporting currency of the allocation; each "
                               "budget is in its own `currency`, its actual converted at "
                               "the rate in its `fx` (rate and source).")
    budgets: list[dict[str, Any]]


class AlertsResponse(BaseModel):
    alerts: list[dict[str, Any]]


class RowsResponse(BaseModel):
    rows: list[dict[str, Any]]


class AcknowledgementsResponse(BaseModel):
    acknowledgements: list[dict[str, Any]] = Field(
        description="Acknowledge / Snooze presses from Slack: conversation, budget, team, "
        "action, user_id, user_name, pressed_at, until (snoozes), channel, message_ts.")


class InteractionResponse(BaseModel):
    ok: bool
    recorded: str | None = Field(description="acknowledge or snooze; null for other buttons.")


class BudgetReportResponse(BaseModel):
    team: str
    text: str
    blocks: list[dict[str, Any]]
    facts: dict[str, Any]


class SqlRequest(BaseModel):
    sql: str = Field(min_length=1, description="One SELECT over the published warehouse "
                     "(at most the server's `FINOPS_SQL__MAX_SQL_CHARS` characters).")
    max_rows: int | None = Field(
        None, ge=1, description="Row cap for this query (never above the server's cap)."
    )


class SqlResponse(BaseModel):
    columns: list[str]
    types: list[str] = Field(description="DuckDB type of each column (`BLOB`, `DECIMAL(18,2)`"
                             ", `MAP(VARCHAR, VARCHAR)`, ...): it says how a value is encoded.")
    rows: list[list[Any]] = Field(description="JSON values; what JSON cannot carry exactly is "
                                  "text: BLOB as base64, DECIMAL and integers beyond 2^53 as "
                                  "exact digits, NaN/Infinity, ISO 8601 times and durations.")
    row_count: int
    truncated: bool
    truncated_by: Literal["rows", "bytes"] | None = Field(
        None, description="Which cap cut the rows: `max_rows`, or the server's result size.")
    elapsed_ms: float


class GovernanceFinding(BaseModel):
    kind: str = Field(description="unbounded-namespace, quota-over-budget, team-without-budget, "
                      "budget-without-spend, unlabeled-workload, untagged-resource, "
                      "catalog-owner-mismatch, component-without-workload, "
                      "workload-without-entity, exemption-expired.")
    subject: str = Field(description="What it is about: cluster/namespace[/workload], "
                         "`team x`, `budget x`, a catalog entity ref, `exemption x`.")
    detail: str
    amount: float = Field(description="The money at stake, in `currency`.")
    currency: str | None
    team: str | None = Field(description="The team it concerns (null: nobody owns it).")
    cluster: str | None
    namespace: str | None
    exemption: str | None = Field(description="The exemption in force that covers it.")


class QuotaCeiling(BaseModel):
    team: str
    ceiling_monthly: float | None = Field(description="Sum of its namespaces' quota ceilings "
                                          "(the most a month can cost); null: no quota.")
    quota_namespaces: int
    unpriced_namespaces: int
    unbounded_namespaces: int = Field(description="Its tenant namespaces no quota bounds.")
    budget_monthly: float | None


class GovernanceResponse(BaseModel):
    """Governance findings over the window, each with the money at stake."""

    window: Window
    today: date = Field(description="The day exemptions are judged against.")
    currency: str | None
    summary: dict[str, Any]
    findings: list[GovernanceFinding]
    quota_ceilings: list[QuotaCeiling]
    namespace_ceilings: list[dict[str, Any]] = Field(description="Per quota'd namespace: "
                                                     "hard limits, unit prices, ceiling.")
    coverage: list[dict[str, Any]] = Field(description="Label coverage per day by cluster "
                                           "and team: cost, labelled, share.")
    exemptions: list[dict[str, Any]]
    catalog_entities: int
