"""Session cookies: a token typed once becomes a signed, expiring, revocable cookie.

The cookie carries no secret, only claims: a random session id, the principal's name, a
fingerprint of the token's stored digest and the expiry, signed with HMAC-SHA256. Each use
re-checks the claims against the tokens of ``finops.yaml``, so a token removed or rotated
there ends every session it opened (the role is read from the config, never the cookie).
Signing out puts the session id on a revocation list kept until the cookie would have expired.

The key comes from ``FINOPS_AUTH__SESSION_SECRET``; without it a random key is made per
process, so sessions end when the server restarts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from finops.api.auth import Principal, TokenStore

COOKIE = "finops_session"
_MAX_COOKIE = 1024  # ours are ~200 characters; anything longer is not ours


@dataclass(frozen=True)
class Claims:
    sid: str
    sub: str
    fp: str
    exp: int


class Sessions:
    """Open, check and close sessions of one token store."""

    def __init__(self, tokens: TokenStore, secret: bytes | None, ttl_s: int,
                 clock: Callable[[], float] = time.time) -> None:
        key = secret or secrets.token_bytes(32)
        self._sign_key = _derive(key, "sign")
        self._fp_key = _derive(key, "fingerprint")
        self._tokens = tokens
        self._clock = clock
        self.ttl_s = ttl_s
        self._revoked: dict[str, int] = {}
        self._lock = threading.Lock()

    def open(self, token: str) -> tuple[str, Principal] | None:
        """A cookie value and its principal for a valid ``token``; None for any other."""
        found = self._tokens.find(token)
        if found is None:
            return None
        digest, principal = found
        claims = Claims(sid=secrets.token_urlsafe(18), sub=principal.name,
                        fp=self._fingerprint(digest), exp=int(self._clock()) + self.ttl_s)
        return self._encode(claims), principal

    def principal(self, cookie: str | None) -> Principal | None:
        """Who a cookie stands for now, or None (forged, expired, revoked, token gone)."""
        claims = self._decode(cookie)
        if claims is None or claims.exp <= self._clock() or self._is_revoked(claims.sid):
            return None
        for digest, principal in self._tokens.named(claims.sub):
            if hmac.compare_digest(self._fingerprint(digest), claims.fp):
                return principal
        return None

    def close(self, cookie: str | None) -> None:
        """Revoke the session on the server (deleting the cookie alone would trust the client)."""
        claims = self._decode(cookie)
        if claims is None:
            return
        now = self._clock()
        with self._lock:
            self._revoked = {sid: exp for sid, exp in self._revoked.items() if exp > now}
            self._revoked[claims.sid] = claims.exp

    def _is_revoked(self, sid: str) -> bool:
        with self._lock:
            return sid in self._revoked

    def _fingerprint(self, digest: str) -> str:
        # Keyed, so a cookie's holder cannot test guesses of the token against it offline.
        return hmac.new(self._fp_key, digest.encode(), hashlib.sha256).hexdigest()[:32]

    def _encode(self, claims: Claims) -> str:
        payload = _b64(json.dumps(asdict(claims), separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def _decode(self, cookie: str | None) -> Claims | None:
        if not cookie or len(cookie) > _MAX_COOKIE or "." not in cookie:
            return None
        payload, signature = cookie.rsplit(".", 1)
        # Bytes, not str: compare_digest refuses non-ASCII text, and a cookie may hold any.
        if not hmac.compare_digest(self._sign(payload).encode(), signature.encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return Claims(sid=str(data["sid"]), sub=str(data["sub"]), fp=str(data["fp"]),
                          exp=int(data["exp"]))
        except (ValueError, KeyError, TypeError):
            return None  # signed by us yet unreadable: an older format; sign in again

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._sign_key, payload.encode(), hashlib.sha256).digest())


def _derive(key: bytes, purpose: str) -> bytes:
    """One key per use, so a signature can never pass for a fingerprint or the reverse."""
    return hmac.new(key, f"finops-session:{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
