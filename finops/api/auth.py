"""Bearer tokens -> principals with a role, and what each role may see.

Tokens live in ``finops.yaml`` as SHA-256 digests. A presented token is hashed and compared
with every stored digest using ``hmac.compare_digest`` (constant time, and no early exit), so
neither the token nor which digest it resembles leaks through timing.

Roles: ``finance`` (every team and unowned spend, no SQL), ``platform`` (everything, SQL),
``team:<name>`` (that team's rows only, everywhere; no unowned spend, no other team, no SQL).

People do not send tokens on every request: they sign in once for a session cookie
(``finops.api.sessions``) or come through an SSO proxy (``finops.api.sso``);
``finops.api.identity`` decides which credential a request carries.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from models.config import FinOpsConfig, hash_token
from models.errors import AuthError, Forbidden


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    @property
    def team(self) -> str | None:
        """The only team this principal may see, or None when it sees every team."""
        return self.role[5:] if self.role.startswith("team:") else None

    @property
    def can_sql(self) -> bool:
        return self.role == "platform"

    @property
    def sees_unowned(self) -> bool:
        return self.team is None

    def require_team(self, team: str) -> None:
        """403 unless this principal may see ``team``."""
        if self.team is not None and self.team != team:
            raise Forbidden(f"token {self.name!r} may only see team {self.team!r}, not {team!r}")

    def require_org_view(self, what: str) -> None:
        """403 for team tokens on organisation-wide views (unowned spend, coverage)."""
        if not self.sees_unowned:
            raise Forbidden(f"{what} is organisation-wide; token {self.name!r} sees one team")

    def visible_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A team principal keeps only rows of its team (rows scoped by a filter are hidden)."""
        if self.team is None:
            return rows
        return [row for row in rows if row.get("team") == self.team]

    def require_sql(self) -> None:
        if not self.can_sql:
            raise Forbidden(f"SQL needs a platform token; {self.name!r} has role {self.role!r}")


def auth_configured(config: FinOpsConfig) -> bool:
    """Whether anyone can be let in: API tokens, or SSO groups mapped to roles."""
    return bool(config.api_tokens) or bool(config.sso.groups)


class TokenStore:
    """The tokens of one ``finops.yaml``."""

    def __init__(self, config: FinOpsConfig) -> None:
        self._tokens = [(t.sha256, Principal(t.name, t.role)) for t in config.api_tokens]

    def find(self, token: str) -> tuple[str, Principal] | None:
        """The stored digest and principal of ``token``, or None."""
        digest = hash_token(token)
        found: tuple[str, Principal] | None = None
        for stored, principal in self._tokens:
            if hmac.compare_digest(stored, digest) and found is None:
                found = (stored, principal)
        return found

    def named(self, name: str) -> list[tuple[str, Principal]]:
        """Digest and principal of every token called ``name`` (sessions re-check theirs)."""
        return [(stored, principal) for stored, principal in self._tokens
                if principal.name == name]

    def lookup(self, token: str) -> Principal | None:
        found = self.find(token)
        return found[1] if found else None

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise AuthError("missing token: send `Authorization: Bearer <token>` "
                            "(people: sign in at /signin)")
        principal = self.lookup(token)
        if principal is None:
            raise AuthError("invalid token")
        return principal



LOCAL_PLATFORM = Principal("local (--no-auth)", "platform")


class OpenAccess(TokenStore):
    """``finops serve --no-auth`` (loopback only): no tokens are asked for, every request is
    the local platform principal, as anyone on this machine could read the files anyway."""

    def __init__(self) -> None:
        super().__init__(FinOpsConfig())

    def lookup(self, token: str) -> Principal | None:
        return LOCAL_PLATFORM

    def authenticate(self, token: str | None) -> Principal:
        return LOCAL_PLATFORM
