"""One error body for every error the API returns.

``{"ok": false, "error": "...", "errors": [...], "status": N}`` — for a ``FinOpsError`` (its
``status``), an ``HTTPException`` (404 on an unknown path, 405, ...), a request that fails
validation (422, one entry per bad field) and anything unexpected (500, no internals leaked).

A server-side error (5xx) may name files (the snapshot's path, a DuckDB I/O message): those go
to the server log, and into the body only for platform callers (``request.state.principal``,
set by ``deps``); everyone else, the unauthenticated included, sees the message without paths.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dashboards.pages import error_page
from finops.api.identity import wants_page
from models.api import ErrorBody
from models.errors import FinOpsError, SnapshotUnavailable

log = logging.getLogger("finops.api")
# Absolute paths of two or more parts (/srv/data/x.duckdb, C:/x/y), not inside a word or a URL,
# and quoted text with a slash in it (DuckDB quotes the files it names, spaces and all).
_PATH = re.compile(r"(?<![\w/:.])(?:[A-Za-z]:)?(?:/[^\s/\"'`:;,()]+){2,}/?")
_QUOTED_PATH = re.compile(r"([\"'`])[^\"'`]*/[^\"'`]*\1")


def error_response(status: int, error: str, errors: list[str] | None = None) -> JSONResponse:
    body = ErrorBody(error=error, errors=errors or [error], status=status)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def answer(request: Request, status: int, error: str,
           errors: list[str] | None = None) -> Response:
    """The error for this caller: a page for a person's browser navigating to a page, the
    JSON body for everyone else (API clients, scripts, a bearer header)."""
    if wants_page(request):
        return HTMLResponse(error_page(status, error), status_code=status,
                            headers={"Cache-Control": "no-store"})
    return error_response(status, error, errors)


async def _finops_error(request: Request, exc: Exception) -> Response:
    status = exc.status if isinstance(exc, FinOpsError) else 400
    if status < 500:
        return answer(request, status, str(exc))
    return answer(request, status, server_side_message(request, exc))


def server_side_message(request: Request, exc: Exception) -> str:
    """The message of a 5xx: logged whole; paths only for platform callers."""
    where = exc.where if isinstance(exc, SnapshotUnavailable) else None
    full = f"{exc} ({where})" if where else str(exc)
    log.warning("%s %s: %s", request.method, request.url.path, full)
    principal = getattr(request.state, "principal", None)
    if getattr(principal, "role", None) == "platform":
        return full
    return redact_paths(str(exc))


def redact_paths(text: str) -> str:
    return _PATH.sub("<path>", _QUOTED_PATH.sub(r"\1<path>\1", text))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return answer(request, exc.status_code, str(exc.detail))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(err) for err in exc.errors()]
    return answer(request, 422, "invalid request: " + "; ".join(problems), problems)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # The traceback goes to the server log; the client learns only that it was our fault.
    log.exception("unhandled error", exc_info=exc)
    return answer(request, 500, "internal error (see the server log)")


def _describe(err: Any) -> str:
    loc: tuple[object, ...] = tuple(err.get("loc") or ())
    where = ".".join(str(part) for part in loc if isinstance(part, str | int))
    return f"{where}: {err.get('msg')}"


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FinOpsError, _finops_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)

