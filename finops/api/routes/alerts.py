"""GET /api/alerts: alerts raised (budget thresholds, anomalies), newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from finops.alerts import list_alerts
from finops.api.deps import PrincipalDep, ReaderDep
from models.api import AlertsResponse

router = APIRouter(prefix="/api", tags=["alerts"])


@router.get("/alerts", response_model=AlertsResponse)
def alerts(
    principal: PrincipalDep,
    reader: ReaderDep,
    team: Annotated[str | None, Query(description="Only this team's alerts.")] = None,
) -> AlertsResponse:
    """Alerts from the outbox. A team token sees only its own team's alerts."""
    if team is not None:
        principal.require_team(team)
    cursor = reader.cursor()
    try:
        rows = list_alerts(cursor, principal.team or team)
    finally:
        cursor.close()
    return AlertsResponse(alerts=principal.visible_rows(rows))
