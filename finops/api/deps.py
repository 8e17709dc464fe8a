"""Dependencies shared by the routes: the app context, the reader, the caller, the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from finops.api.auth import Principal
from finops.api.identity import Authenticator
from finops.api.metrics import Metrics
from finops.api.reader import Reader
from finops.sandbox import Sandbox
from finops.settings import Settings
from models.api import Window
from models.config import FinOpsConfig


@dataclass
class AppContext:
    """Everything a request needs, built once by ``create_app``."""

    settings: Settings
    config: FinOpsConfig
    auth: Authenticator
    sandbox: Sandbox
    reader: Reader
    metrics: Metrics


def _context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(_context)]


def _reader(ctx: ContextDep) -> Reader:
    return ctx.reader


ReaderDep = Annotated[Reader, Depends(_reader)]

# auto_error=False: a missing header must produce our error body (401), not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="A token from finops.yaml `api_tokens`.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _principal(request: Request, ctx: ContextDep, credentials: BearerDep) -> Principal:
    """Bearer token, else the session cookie, else trusted SSO headers (``identity``)."""
    return ctx.auth.principal(request, credentials.credentials if credentials else None)


PrincipalDep = Annotated[Principal, Depends(_principal)]


def _window(
    reader: ReaderDep,
    start: Annotated[date | None, Query(description="First day (default: 30 days before end).")]
    = None,
    end: Annotated[date | None, Query(description="Last day, inclusive (default: last day "
                                                  "with data).")] = None,
) -> Window:
    return reader.window(start, end)


WindowDep = Annotated[Window, Depends(_window)]
