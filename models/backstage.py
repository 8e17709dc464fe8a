"""Payloads of the Backstage Cost Insights API (``/api/backstage/...``).

The shapes are ``@backstage/plugin-cost-insights-common``'s (``Cost``, ``DateAggregation``,
``ChangeStatistic``, ``Trendline``, ``Entity``, ``Group``, ``Project``, ``Product``), so the
TypeScript client in ``integrations/backstage/`` hands them to the plugin as they come.
Alerts are JSON here; the client turns them into the plugin's ``Alert`` objects.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DateAggregation(BaseModel):
    date: str = Field(description="YYYY-MM-DD")
    amount: float


class ChangeStatistic(BaseModel):
    ratio: float | None = Field(None, description="(new - old) / old; omitted when either "
                                "period's sum is 0.")
    amount: float = Field(description="new - old, in the reporting currency.")


class Trendline(BaseModel):
    slope: float = Field(description="Per second (x is the day's UNIX time), as the plugin's "
                         "example client fits it.")
    intercept: float


class Cost(BaseModel):
    id: str
    aggregation: list[DateAggregation]
    change: ChangeStatistic | None = None
    trendline: Trendline | None = None
    groupedCosts: dict[str, list[Cost]] | None = None  # noqa: N815 (the plugin's name)


class Entity(BaseModel):
    id: str | None = Field(description="null: cost no label attributes (unlabeled).")
    aggregation: tuple[float, float] = Field(description="[previous period, current period]")
    change: ChangeStatistic
    entities: dict[str, list[Entity]] = {}


class Group(BaseModel):
    id: str
    name: str | None = None


class Project(BaseModel):
    id: str = Field(description="`<cluster>/<namespace>`, or `<provider>/<sub account>`.")
    name: str | None = None


class Product(BaseModel):
    kind: str
    name: str


class BillingDate(BaseModel):
    date: str = Field(description="The last day with complete (allocated) billing data.")
    currency: str | None = Field(description="The currency every amount is in.")


class ProjectCost(BaseModel):
    id: str
    unlabeledCost: float  # noqa: N815
    labeledCost: float  # noqa: N815


class AlertData(BaseModel):
    periodStart: str  # noqa: N815
    periodEnd: str  # noqa: N815
    projects: list[ProjectCost] = []
    unlabeledCost: float = 0.0  # noqa: N815
    labeledCost: float = 0.0  # noqa: N815


class Alert(BaseModel):
    """An "action item": a crossed budget threshold, a governance finding, or (for the
    ``__unallocated__`` group) unlabeled spend in the plugin's UnlabeledDataflow shape."""

    kind: Literal["budget", "governance", "unlabeled"]
    title: str
    subtitle: str
    url: str | None = None
    buttonText: str | None = None  # noqa: N815
    data: AlertData | None = None
