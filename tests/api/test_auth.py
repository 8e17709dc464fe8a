"""Tokens and roles, without HTTP."""

from __future__ import annotations

import pytest

from finops.api.auth import Principal, TokenStore
from models.config import ApiToken, FinOpsConfig, Team, hash_token
from models.errors import AuthError, Forbidden


def store() -> TokenStore:
    config = FinOpsConfig(
        teams=[Team(name="payments")],
        api_tokens=[ApiToken(name="fin", sha256=hash_token("t-fin"), role="finance"),
                    ApiToken(name="pay", sha256=hash_token("t-pay"), role="team:payments")],
    )
    return TokenStore(config)


def test_lookup_by_hash() -> None:
    assert store().lookup("t-pay") == Principal("pay", "team:payments")
    assert store().lookup("t-fin") == Principal("fin", "finance")
    assert store().lookup(hash_token("t-fin")) is None  # the digest itself is not a token
    assert store().lookup("t-pa") is None


@pytest.mark.parametrize("token", [None, "", "nope"])
def test_authenticate_refuses(token: str | None) -> None:
    with pytest.raises(AuthError):
        store().authenticate(token)


def test_roles() -> None:
    team = Principal("pay", "team:payments")
    assert team.team == "payments" and not team.can_sql and not team.sees_unowned
    team.require_team("payments")
    with pytest.raises(Forbidden):
        team.require_team("search")
    with pytest.raises(Forbidden):
        team.require_org_view("unowned spend")
    finance = Principal("fin", "finance")
    finance.require_team("search")
    finance.require_org_view("coverage")
    with pytest.raises(Forbidden):
        finance.require_sql()
    Principal("ops", "platform").require_sql()
