"""Sign in (a token exchanged once for a session cookie) and sign out.

``POST /signin`` takes the form; ``GET /signin?token=…`` is the only place a token in a URL
is accepted, and is answered by a redirect without it (the access log never shows the query
of ``/signin``). ``POST /signout`` revokes the session on the server and deletes the cookie.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response

from dashboards.signin import SIGNIN_PATH, SIGNOUT_PATH, signin_page
from finops.api.browser import (
    DEFAULT_NEXT,
    clear_session_cookie,
    html,
    redirect,
    safe_next,
    set_session_cookie,
    signin_url,
)
from finops.api.deps import ContextDep
from finops.api.identity import cross_site
from finops.api.sessions import COOKIE
from models.errors import InputError

router = APIRouter(tags=["sign-in"])
MAX_FORM_BYTES = 8192
NextQuery = Annotated[str | None, Query(alias="next", description="Local path to open after "
                                        "signing in (anything else opens the dashboards).")]
_FORM: dict[str, Any] = {"requestBody": {"content": {"application/x-www-form-urlencoded": {
    "schema": {"type": "object", "required": ["token"], "properties": {
        "token": {"type": "string"}, "next": {"type": "string"}}}}}}}


@router.get(SIGNIN_PATH, response_class=Response)
def signin_form(
    request: Request, ctx: ContextDep, next_path: NextQuery = None,
    token: Annotated[str | None, Query(description="A token to exchange at once (the only URL "
                                       "that takes one); answered by a redirect.")] = None,
    reason: Annotated[str | None, Query(description="Why the page is shown.")] = None,
) -> Response:
    """The sign-in page; straight on to ``next`` for a person already signed in."""
    target = safe_next(next_path)
    if token is not None:
        return _exchange_link(request, ctx, token, target)
    if ctx.auth.sessions.principal(request.cookies.get(COOKIE)) is not None:
        return redirect(target)
    return html(signin_page(target, reason))


def _exchange_link(request: Request, ctx: ContextDep, token: str, target: str) -> Response:
    # A link from another site could sign a person in as someone else (login CSRF), and
    # such links are how tokens end up in chats: only typed or local ones are exchanged.
    if cross_site(request):
        return redirect(signin_url(target, "link"))
    opened = ctx.auth.sessions.open(token.strip())
    if opened is None:
        return redirect(signin_url(target, "invalid"))
    return _signed_in(request, ctx, opened[0], target)


@router.post(SIGNIN_PATH, response_class=Response, openapi_extra=_FORM)
async def signin(request: Request, ctx: ContextDep) -> Response:
    """Exchange the form's token for a session cookie and go to ``next``."""
    ctx.auth.require_same_origin(request)
    form = await _read_form(request)
    target = safe_next(form.get("next"))
    opened = ctx.auth.sessions.open(form.get("token", "").strip())
    if opened is None:
        return html(signin_page(target, "invalid"), status=401)
    return _signed_in(request, ctx, opened[0], target)


@router.post(SIGNOUT_PATH, response_class=Response)
def signout(request: Request, ctx: ContextDep) -> Response:
    """End the session: revoked on the server, cookie deleted, back to the sign-in page."""
    ctx.auth.require_same_origin(request)
    ctx.auth.sessions.close(request.cookies.get(COOKIE))
    response = redirect(signin_url(DEFAULT_NEXT, "signed-out"))
    clear_session_cookie(response, ctx.auth.is_https(request))
    return response


def _signed_in(request: Request, ctx: ContextDep, cookie: str, target: str) -> Response:
    response = redirect(target)
    set_session_cookie(response, cookie, ctx.auth.sessions.ttl_s, ctx.auth.is_https(request))
    return response


async def _read_form(request: Request) -> dict[str, str]:
    """The urlencoded form, size-capped (no multipart parser needed for two fields)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InputError(f"sign-in form larger than {MAX_FORM_BYTES} bytes")
    pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return dict(reversed(pairs))  # the first of repeated fields wins
