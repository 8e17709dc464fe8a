"""People signed in by an SSO proxy (oauth2-proxy and similar): trusted headers -> a principal.

The proxy names the person (``X-Forwarded-User``) and their groups (``X-Forwarded-Groups``,
comma-separated); ``finops.yaml`` maps groups to roles (``sso.groups``). The caller
(``finops.api.identity``) believes these headers only from a configured proxy address.

Several mapped groups: the most privileged role wins (platform, then finance, then a team),
because each of those roles sees everything the ones after it see, so the person gets no
row that a group of theirs would not show them. Groups that map to two different teams are
refused (403): no role is exactly "both teams", and guessing one would hide the other.
"""

from __future__ import annotations

from starlette.datastructures import Headers

from finops.api.auth import Principal
from models.config import Sso
from models.errors import Forbidden

_PRIVILEGED = ("platform", "finance")  # most privileged first
_MAX_NAME = 200


def sso_principal(headers: Headers, sso: Sso) -> Principal | None:
    """The person the proxy vouches for, or None when it names nobody."""
    user = headers.get(sso.user_header, "").strip()
    if not user:
        return None
    groups = [group.strip() for value in headers.getlist(sso.groups_header)
              for group in value.split(",") if group.strip()]
    return Principal(f"sso:{user[:_MAX_NAME]}", resolve_role(user[:_MAX_NAME], groups, sso))


def resolve_role(user: str, groups: list[str], sso: Sso) -> str:
    """The one role ``groups`` give ``user`` (see the module's rule); 403 when there is none."""
    roles = {sso.groups[group] for group in groups if group in sso.groups}
    for role in _PRIVILEGED:
        if role in roles:
            return role
    if len(roles) == 1:
        return roles.pop()
    if not roles:
        raise Forbidden(f"SSO user {user!r}: none of the groups {sorted(groups)[:20]} has a "
                        "finops role (finops.yaml `sso.groups`)")
    raise Forbidden(f"SSO user {user!r}: groups map to several teams ({', '.join(sorted(roles))});"
                    " finops.yaml `sso.groups` must give a person one team, or finance")
