"""Dependencies shared by the routes: the app context, the reader, the caller, the window."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from finops.api.auth import Principal
from finops.api.identity import Authenticator
from finops.api.metrics import Metrics
from finops.api.reader import SnapshotReader
from finops.api.response_cache import ResponseCache
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
    auth: Authenticator
    sandbox: Sandbox
    snapshots: SnapshotManager
    metrics: Metrics
    responses: ResponseCache


def _context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(_context)]


def _reader(request: Request, ctx: ContextDep) -> Iterator[SnapshotReader]:
    """The request's reader, on the snapshot generation current when the request started; the
    lease ends with the request (FastAPI runs the rest of this generator then). The
    generation's number is noted on the request: the response cache keys by it."""
    with ctx.snapshots.lease() as generation:
        request.state.generation = generation.number
        yield SnapshotReader(generation, max_window_days=ctx.settings.api.max_window_days)


ReaderDep = Annotated[SnapshotReader, Depends(_reader)]

# auto_error=False: a missing header must produce our error body (401), not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="A token from finops.yaml `api_tokens`.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _principal(request: Request, ctx: ContextDep, credentials: BearerDep) -> Principal:
    """Bearer token, else the session cookie, else trusted SSO headers (``identity``)."""
    return ctx.auth.principal(request, credentials.credentials if credentials else None)


def _remember(request: Request, principal: Principal) -> Principal:
    # Error bodies show file paths to platform callers only; the error handlers read this.
    request.state.principal = principal
    return principal


def _known_principal(request: Request,
                     principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    return _remember(request, principal)


PrincipalDep = Annotated[Principal, Depends(_known_principal)]


def _window(
    reader: ReaderDep,
    start: Annotated[Day | None, Query(description="First day (default: 30 days before end; "
                                                   f"{DAYS_ACCEPTED}).")] = None,
    end: Annotated[Day | None, Query(description="Last day, inclusive (default: last day with "
                                                 f"data; {DAYS_ACCEPTED}).")] = None,
) -> Window:
    return reader.window(start, end)


WindowDep = Annotated[Window, Depends(_window)]
