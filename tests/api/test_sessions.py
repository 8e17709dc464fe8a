"""Session cookies without HTTP: signing, expiry, revocation, and the token re-check."""

from __future__ import annotations

import base64

import pytest

from finops.api.auth import Principal, TokenStore, auth_configured
from finops.api.sessions import Sessions
from models.config import ApiToken, FinOpsConfig, Sso, Team, hash_token

SECRET = b"k" * 32
TTL = 3600


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def config(*tokens: tuple[str, str, str]) -> FinOpsConfig:
    return FinOpsConfig(teams=[Team(name="payments")], api_tokens=[
        ApiToken(name=name, sha256=hash_token(token), role=role) for name, token, role in tokens])


PAY = ("pay", "t-pay", "team:payments")
FIN = ("fin", "t-fin", "finance")


def sessions(cfg: FinOpsConfig, clock: Clock | None = None,
             secret: bytes | None = SECRET) -> Sessions:
    return Sessions(TokenStore(cfg), secret, TTL, clock or Clock())


def opened(store: Sessions, token: str) -> str:
    result = store.open(token)
    assert result is not None
    return result[0]


def test_a_valid_token_opens_a_session_for_its_principal() -> None:
    store = sessions(config(PAY, FIN))
    cookie, principal = store.open("t-pay") or ("", None)
    assert principal == Principal("pay", "team:payments")
    assert store.principal(cookie) == principal
    assert store.open("t-nope") is None and store.open("") is None


def test_the_cookie_holds_neither_the_token_nor_its_digest() -> None:
    cookie = opened(sessions(config(PAY)), "t-pay")
    payload = cookie.split(".")[0]
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert "t-pay" not in claims and hash_token("t-pay") not in claims
    assert '"sub":"pay"' in claims


def test_sessions_expire() -> None:
    clock = Clock()
    store = sessions(config(PAY), clock)
    cookie = opened(store, "t-pay")
    clock.now += TTL - 1
    assert store.principal(cookie) is not None
    clock.now += 1
    assert store.principal(cookie) is None


def test_signing_out_revokes_only_that_session() -> None:
    store = sessions(config(PAY))
    first, second = opened(store, "t-pay"), opened(store, "t-pay")
    store.close(first)
    assert store.principal(first) is None
    assert store.principal(second) == Principal("pay", "team:payments")
    store.close("garbage")  # closing something that is not a session is harmless


def test_forged_and_garbled_cookies_are_refused() -> None:
    store = sessions(config(PAY))
    cookie = opened(store, "t-pay")
    payload, signature = cookie.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for bad in [f"{flipped}.{signature}", f"{payload}.{signature[:-1]}", f"{payload}.",
                "", ".", "a.b", "x" * 5000, "é.ü", f"{payload}.{signature}é", None]:
        assert store.principal(bad) is None, bad


def test_a_cookie_from_another_key_is_refused() -> None:
    cookie = opened(sessions(config(PAY), secret=b"other-key" * 4), "t-pay")
    assert sessions(config(PAY)).principal(cookie) is None
    # no key configured: each process makes its own, so sessions end at a restart
    assert sessions(config(PAY), secret=None).principal(
        opened(sessions(config(PAY), secret=None), "t-pay")) is None


def test_a_configured_key_keeps_sessions_across_a_restart() -> None:
    cookie = opened(sessions(config(PAY)), "t-pay")
    assert sessions(config(PAY)).principal(cookie) == Principal("pay", "team:payments")


def test_removing_or_rotating_the_token_ends_its_sessions() -> None:
    cookie = opened(sessions(config(PAY, FIN)), "t-pay")
    assert sessions(config(FIN)).principal(cookie) is None  # removed from finops.yaml
    rotated = ("pay", "t-pay-2", "team:payments")
    assert sessions(config(rotated, FIN)).principal(cookie) is None  # same name, new token


def test_the_role_comes_from_the_config_not_the_cookie() -> None:
    cookie = opened(sessions(config(PAY, FIN)), "t-pay")
    demoted = ("pay", "t-pay", "finance")
    assert sessions(config(demoted)).principal(cookie) == Principal("pay", "finance")


def test_auth_configured_counts_tokens_or_sso_groups() -> None:
    assert not auth_configured(FinOpsConfig())
    assert auth_configured(config(PAY))
    assert auth_configured(FinOpsConfig(sso=Sso(groups={"finops-finance": "finance"})))
    assert not auth_configured(FinOpsConfig(sso=Sso()))


@pytest.mark.parametrize("ttl", [1, 60])
def test_ttl_is_the_setting(ttl: int) -> None:
    clock = Clock()
    store = Sessions(TokenStore(config(PAY)), SECRET, ttl, clock)
    cookie = opened(store, "t-pay")
    clock.now += ttl
    assert store.principal(cookie) is None and store.ttl_s == ttl
