"""Dependencies shared by the routes: the app context, the reader, the caller, the window."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from finops.api.auth import Principal, TokenStore
from finops.api.metrics import Metrics
from finops.api.reader import Reader
from finops.api.snapshots import SnapshotManager
from finops.sandbox import Sandbox
from finops.settings import Settings
from models.api import DAYS_ACCEPTED, Day, Window
from models.config import FinOpsConfig


@dataclass
class AppContext:
    """Everything a request needs, built once by ``create_app``."""

    settings: Settings
    config: FinOpsConfig
    tokens: TokenStore
    sandbox: Sandbox
    snapshots: SnapshotManager
    metrics: Metrics


def _context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(_context)]


def _reader(ctx: ContextDep) -> Iterator[Reader]:
    """The request's reader, on the snapshot generation current when the request started; the
    lease ends with the request (FastAPI runs the rest of this generator then)."""
    with ctx.snapshots.lease() as generation:
        yield Reader(generation, max_window_days=ctx.settings.api.max_window_days)


ReaderDep = Annotated[Reader, Depends(_reader)]

# auto_error=False: a missing header must produce our error body (401), not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="A token from finops.yaml `api_tokens`.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _principal(ctx: ContextDep, credentials: BearerDep) -> Principal:
    return ctx.tokens.authenticate(credentials.credentials if credentials else None)


def _remember(request: Request, principal: Principal) -> Principal:
    # Error bodies show file paths to platform callers only; the error handlers read this.
    request.state.principal = principal
    return principal


def _known_principal(request: Request,
                     principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    return _remember(request, principal)


PrincipalDep = Annotated[Principal, Depends(_known_principal)]


def _dashboard_principal(
    ctx: ContextDep,
    credentials: BearerDep,
    token: Annotated[str | None, Query(description="Token, for links opened in a browser.")]
    = None,
) -> Principal:
    # Browsers cannot add a header to a link, so pages also accept ?token=.
    presented = credentials.credentials if credentials else token
    return ctx.tokens.authenticate(presented)


def _known_dashboard_principal(
    request: Request, principal: Annotated[Principal, Depends(_dashboard_principal)],
) -> Principal:
    return _remember(request, principal)


DashboardPrincipalDep = Annotated[Principal, Depends(_known_dashboard_principal)]


def _window(
    reader: ReaderDep,
    start: Annotated[Day | None, Query(description="First day (default: 30 days before end; "
                                                   f"{DAYS_ACCEPTED}).")] = None,
    end: Annotated[Day | None, Query(description="Last day, inclusive (default: last day with "
                                                 f"data; {DAYS_ACCEPTED}).")] = None,
) -> Window:
    return reader.window(start, end)


WindowDep = Annotated[Window, Depends(_window)]
