"""GET /api/alerts[...]: the outbox's messages, conversations, anomalies and acknowledgements.

Everything comes from ``finops.alerts`` (the published snapshot, and the interactions store
for acknowledgements, which is fresher than any snapshot). A team token sees only its own
team's rows.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from finops.alerts import reads
from finops.alerts.interactions import InteractionStore
from finops.alerts.outbox import STATUSES
from finops.api.auth import Principal
from finops.api.deps import ContextDep, PrincipalDep, ReaderDep
from finops.api.downloads import FormatQuery, as_file, filename, rows_frame
from finops.api.reader import SnapshotReader
from models.api import AcknowledgementsResponse, AlertsResponse, RowsResponse
from models.errors import InputError

router = APIRouter(prefix="/api", tags=["alerts"])
TeamQuery = Annotated[str | None, Query(description="Only this team's rows.")]


def _team(principal: Principal, team: str | None) -> str | None:
    if team is not None:
        principal.require_team(team)
    return principal.team or team


def _read(reader: SnapshotReader, principal: Principal, read: Any) -> list[dict[str, Any]]:
    cursor = reader.cursor()
    try:
        return principal.visible_rows(read(cursor))
    finally:
        cursor.close()


@router.get("/alerts", response_model=AlertsResponse)
def alerts(principal: PrincipalDep, reader: ReaderDep, team: TeamQuery = None,
           status: Annotated[str | None, Query(description="pending, sending, sent or dead."
                                               )] = None) -> AlertsResponse:
    """Messages of the outbox, newest first (status, attempts, last error, text, facts)."""
    if status is not None and status not in STATUSES:
        raise InputError(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    scope = _team(principal, team)
    return AlertsResponse(alerts=_read(reader, principal,
                                       lambda c: reads.list_alerts(c, scope, status)))


@router.get("/alerts/conversations", response_model=RowsResponse)
def conversations(principal: PrincipalDep, reader: ReaderDep,
                  team: TeamQuery = None) -> RowsResponse:
    """One per budget and period (and per anomaly told on its own): where it lives."""
    scope = _team(principal, team)
    return RowsResponse(rows=_read(reader, principal, lambda c: reads.conversations(c, scope)))


@router.get("/alerts/anomalies", response_model=None)
def anomalies(principal: PrincipalDep, reader: ReaderDep, team: TeamQuery = None,
              format: FormatQuery = "json") -> RowsResponse | Response:
    """Anomalies alerted (first and last day, impact, root causes), newest first. Unowned
    spend's are seen by platform and finance only. ``format=csv|parquet``: as a file (root
    causes as JSON text)."""
    scope = _team(principal, team)
    rows = _read(reader, principal, lambda c: reads.anomalies(c, scope))
    if format != "json":
        return as_file(rows_frame(rows), format, filename("anomalies", scope), None)
    return RowsResponse(rows=rows)


@router.get("/alerts/acknowledgements", response_model=AcknowledgementsResponse)
def acknowledgements(principal: PrincipalDep, ctx: ContextDep,
                     team: TeamQuery = None) -> AcknowledgementsResponse:
    """Acknowledge and Snooze presses from Slack, oldest first (who, when, until)."""
    scope = _team(principal, team)
    presses = InteractionStore(ctx.settings.interactions_path).presses(scope)
    return AcknowledgementsResponse(acknowledgements=principal.visible_rows(presses))
