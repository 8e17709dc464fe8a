"""SSO proxy headers -> a role, without HTTP (the trusted-address rule is in test_signin)."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from finops.api.auth import Principal
from finops.api.sso import resolve_role, sso_principal
from models.config import Sso
from models.errors import Forbidden

SSO = Sso(groups={"finops-finance": "finance", "platform-eng": "platform",
                  "team-payments": "team:payments", "team-search": "team:search",
                  "payments-oncall": "team:payments"})


@pytest.mark.parametrize(("groups", "role"), [
    (["team-payments"], "team:payments"),
    (["team-payments", "payments-oncall"], "team:payments"),  # two groups, one team
    (["team-payments", "finops-finance"], "finance"),  # finance sees payments too
    (["finops-finance", "platform-eng", "team-search"], "platform"),
    (["staff", "team-search"], "team:search"),  # unmapped groups are ignored
])
def test_the_most_privileged_role_wins(groups: list[str], role: str) -> None:
    assert resolve_role("ada", groups, SSO) == role


def test_two_teams_are_ambiguous() -> None:
    with pytest.raises(Forbidden, match="several teams"):
        resolve_role("ada", ["team-payments", "team-search"], SSO)


def test_no_mapped_group_is_403_naming_the_groups() -> None:
    with pytest.raises(Forbidden, match=r"'ada'.*\['staff'\]"):
        resolve_role("ada", ["staff"], SSO)


def test_headers_are_parsed_comma_separated_and_repeated() -> None:
    headers = Headers(raw=[(b"x-forwarded-user", b" ada@example.com "),
                           (b"x-forwarded-groups", b"staff, team-search"),
                           (b"x-forwarded-groups", b"finops-finance")])
    assert sso_principal(headers, SSO) == Principal("sso:ada@example.com", "finance")


def test_no_user_header_is_no_principal() -> None:
    headers = Headers(raw=[(b"x-forwarded-groups", b"platform-eng")])
    assert sso_principal(headers, SSO) is None


def test_header_names_are_configurable() -> None:
    sso = Sso(user_header="X-Auth-Request-User", groups_header="X-Auth-Request-Groups",
              groups={"g": "platform"})
    headers = Headers(raw=[(b"x-auth-request-user", b"bo"), (b"x-auth-request-groups", b"g")])
    assert sso_principal(headers, sso) == Principal("sso:bo", "platform")
