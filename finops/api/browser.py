"""What a person's browser gets: the sign-in page instead of a JSON 401, session cookies,
and no token in any URL but the sign-in hop.

API clients (a bearer header, or no ``Accept: text/html``) keep the JSON error bodies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from dashboards.signin import CSP, SIGNIN_PATH, SIGNOUT_PATH, bounce_page
from finops.api.errors import error_response
from finops.api.identity import cross_site, wants_page
from finops.api.redact import mentions_token
from finops.api.sessions import COOKIE

DEFAULT_NEXT = "/dashboards/"
_MAX_NEXT = 2048
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def safe_next(value: str | None) -> str:
    """``value`` when it is a path on this site (no open redirect), else the dashboards.

    Refused: absolute URLs, scheme-relative ``//host``, backslashes (``/\\host`` is a host to
    some browsers), control characters, the sign-in/out pages; token parameters are dropped.
    """
    if not value or len(value) > _MAX_NEXT or not value.startswith("/") \
            or value.startswith("//") or "\\" in value \
            or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.rstrip("/") in (SIGNIN_PATH, SIGNOUT_PATH):
        return DEFAULT_NEXT
    return urlunsplit(("", "", parts.path, _without_tokens(parts.query), ""))


def signin_url(next_path: str, reason: str | None = None) -> str:
    query = {"next": next_path, **({"reason": reason} if reason else {})}
    return f"{SIGNIN_PATH}?{urlencode(query)}"


def target_of(request: Request) -> str:
    """The path and query this request asked for, tokens dropped (where to come back to)."""
    query = _without_tokens(request.url.query)
    return safe_next(f"{request.url.path}?{query}" if query else request.url.path)


def _without_tokens(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if not mentions_token(k) and not mentions_token(v)])


def html(body: str, status: int = 200) -> HTMLResponse:
    """A sign-in/bounce page: not cached, not framed, nothing loaded. Referrer policy
    ``same-origin``, not ``no-referrer``: under the latter a browser sends ``Origin: null``
    with the form's POST, and the CSRF check could not tell it from a foreign one."""
    return HTMLResponse(body, status_code=status, headers={
        **PRIVATE, "Referrer-Policy": "same-origin", "Content-Security-Policy": CSP,
        "X-Frame-Options": "DENY"})


def redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers=PRIVATE)


def set_session_cookie(response: Response, value: str, ttl_s: int, secure: bool) -> None:
    response.set_cookie(COOKIE, value, max_age=ttl_s, expires=ttl_s, path="/",
                        secure=secure, httponly=True, samesite="strict")


def clear_session_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")


def page_instead_of_401(request: Request) -> Response | None:
    """For a browser navigation: the bounce page (came from another site, so our cookie was
    withheld) or a redirect to the sign-in page that remembers where it was going."""
    if not wants_page(request):
        return None
    if cross_site(request):
        return html(bounce_page())
    response = redirect(signin_url(target_of(request)))
    if COOKIE in request.cookies:  # expired or revoked: drop it
        clear_session_cookie(response, request.app.state.ctx.auth.is_https(request))
    return response


async def auth_error(request: Request, exc: Exception) -> Response:
    """The handler of ``AuthError`` (401): a page for people, the JSON body for API clients."""
    return page_instead_of_401(request) or error_response(401, str(exc))


Handler = Callable[[Request], Awaitable[Response]]


async def refuse_url_tokens(request: Request, call_next: Handler) -> Response:
    """A ``token`` query parameter (any spelling) is refused everywhere but ``/signin``:
    it authenticates nothing, and a URL that carries one ends up in histories and chats."""
    if request.url.path == SIGNIN_PATH or \
            not any(mentions_token(key) for key in request.query_params):
        return await call_next(request)
    if wants_page(request):
        return redirect(signin_url(target_of(request), "url-token"))
    return error_response(400, "tokens are not accepted in URLs: send `Authorization: Bearer "
                               "<token>`, or sign in at /signin")
