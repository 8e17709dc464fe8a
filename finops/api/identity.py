"""Who is calling: a bearer token (API clients), a session cookie or trusted SSO headers (people).

Order: ``Authorization: Bearer`` first (explicit beats ambient), then the session cookie, then
the SSO proxy's headers, which count only when the request's peer is a configured proxy.
Ambient credentials (cookie, SSO headers) are sent by the browser on its own, so requests
that change something must also come from our own origin (``Origin`` checked) on top of the
cookie's ``SameSite=Strict``.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address
from urllib.parse import urlsplit

from fastapi import Request

from finops.api.auth import OpenAccess, Principal, TokenStore
from finops.api.sessions import COOKIE, Sessions
from finops.api.sso import sso_principal
from finops.settings import Settings
from models.config import FinOpsConfig
from models.errors import AuthError, Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Network = IPv4Network | IPv6Network


class Authenticator:
    """Every way in, for one settings + ``finops.yaml``."""

    def __init__(self, settings: Settings, config: FinOpsConfig, *,
                 open_access: bool = False) -> None:
        secret = settings.auth.session_secret
        # `finops serve --no-auth` (loopback only): every way in is the local platform.
        self.open_access = open_access
        self.tokens = OpenAccess() if open_access else TokenStore(config)
        self.sessions = Sessions(self.tokens, secret.get_secret_value().encode() if secret
                                 else None, settings.auth.session_ttl_s)
        self.proxies: list[Network] = list(settings.auth.trusted_proxies)
        self.public_url = settings.api.public_url
        self._config = config

    def principal(self, request: Request, bearer: str | None) -> Principal:
        if bearer is not None:
            return self.tokens.authenticate(bearer)
        principal = self.ambient(request)
        if principal is None:
            raise AuthError("missing token: send `Authorization: Bearer <token>` "
                            "(people: sign in at /signin)")
        if request.method not in SAFE_METHODS:
            self.require_same_origin(request)
        return principal

    def ambient(self, request: Request) -> Principal | None:
        """The signed-in person (session cookie, then SSO proxy headers), or None."""
        if self.open_access:
            return self.tokens.authenticate(None)
        found = self.sessions.principal(request.cookies.get(COOKIE))
        # No `sso.groups`: SSO is not in use, and a proxy's headers must not turn the
        # sign-in page into a 403 for everyone.
        if found is None and self._config.sso.groups and self.from_proxy(request):
            found = sso_principal(request.headers, self._config.sso)
        return found

    def from_proxy(self, request: Request) -> bool:
        """The direct peer is a configured proxy (uvicorn's own proxy handling is off)."""
        host = request.client.host if request.client else ""
        try:
            peer = ip_address(host)
        except ValueError:
            return False
        mapped = getattr(peer, "ipv4_mapped", None)
        return any((mapped or peer) in network for network in self.proxies)

    def is_https(self, request: Request) -> bool:
        """Came over TLS: directly, or said so by a trusted proxy's ``X-Forwarded-Proto``."""
        if request.url.scheme == "https":
            return True
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return forwarded == "https" and self.from_proxy(request)

    def require_same_origin(self, request: Request) -> None:
        """403 for a state-changing request a browser sent from another site (CSRF)."""
        origin = request.headers.get("origin")
        if origin is not None:
            if origin.lower() not in self.own_origins(request):
                raise Forbidden(f"cross-site request refused (Origin {origin[:100]!r})")
            return
        # No Origin: a modern browser still says where the request came from.
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            raise Forbidden("cross-site request refused (Sec-Fetch-Site)")

    def own_origins(self, request: Request) -> set[str]:
        scheme = "https" if self.is_https(request) else "http"
        hosts = [request.headers.get("host", "")]
        if self.from_proxy(request):
            hosts.append(request.headers.get("x-forwarded-host", "").split(",")[0].strip())
        public = urlsplit(self.public_url)
        own = {f"{scheme}://{host}".lower() for host in hosts if host}
        return own | {f"{public.scheme}://{public.netloc}".lower()}


def wants_page(request: Request) -> bool:
    """A browser navigating to a page (not an API client): answered with HTML, not JSON."""
    return (request.method in ("GET", "HEAD") and "authorization" not in request.headers
            and "text/html" in request.headers.get("accept", ""))


def cross_site(request: Request) -> bool:
    """A navigation from another site, which a ``SameSite=Strict`` cookie does not follow.

    Only Fetch Metadata says so reliably; a browser without it goes to the sign-in page
    (a Referer test could loop behind a proxy that rewrites ``Host``).
    """
    return request.headers.get("sec-fetch-site") == "cross-site"
