"""Access-log redaction: a token never reaches a log line, in any encoding."""

from __future__ import annotations

import logging

import pytest

from finops.api.redact import RedactTokens, mentions_token, redact_target

SECRET = "s3cret-Tk"


@pytest.mark.parametrize(("target", "logged"), [
    ("/dashboards/finance?start=2026-10-01&token=s3cret-Tk&x=1",
     "/dashboards/finance?start=2026-10-01&token=***&x=1"),
    ("/api/teams?%74oken=s3cret-Tk", "/api/teams?***"),
    ("/api/teams?%2574oken=s3cret-Tk", "/api/teams?***"),  # encoded twice
    ("/api/teams?%54%4F%4B%45%4E=s3cret-Tk", "/api/teams?***"),
    ("/api/teams?TOKEN=s3cret-Tk", "/api/teams?TOKEN=***"),
    ("/api/teams?tok%65n=s3cret-Tk&a=1", "/api/teams?***&a=1"),
    ("/api/teams?access_token=s3cret-Tk", "/api/teams?access_token=***"),
    ("/api/teams?token=s3cret%2DTk", "/api/teams?token=***"),
    ("/api/teams?token%3Ds3cret-Tk", "/api/teams?***"),  # the `=` encoded into the key
    ("/api/teams?next=%2Fdashboards%3Ftoken%3Ds3cret-Tk", "/api/teams?next=***"),
    ("/api/teams?next=/dashboards?token=s3cret-Tk", "/api/teams?next=***"),
    ("/api/teams?next=%252Fx%253Ftoken%253Ds3cret-Tk", "/api/teams?next=***"),
    ("/api/teams?a=1;token=s3cret-Tk", "/api/teams?a=***"),
    ("/signin?token=s3cret-Tk&next=/dashboards/", "/signin?***"),
    ("/signin?next=/x&code=s3cret-Tk", "/signin?***"),  # /signin: no query logged at all
    ("/%73ignin/?t=s3cret-Tk", "/%73ignin/?***"),
    ("/dashboards%3Ftoken%3Ds3cret-Tk", "***"),  # a `?` hidden in the path
])
def test_targets_are_redacted(target: str, logged: str) -> None:
    assert redact_target(target) == logged
    assert SECRET not in logged


@pytest.mark.parametrize("target", ["/api/teams?start=2026-10-01&end=2026-10-14", "/healthz",
                                    "/dashboards/teams/payments"])
def test_targets_without_tokens_are_untouched(target: str) -> None:
    assert redact_target(target) == target


def test_uvicorn_access_record_is_redacted() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/api/teams?%74oken=s3cret-Tk&x=1",
                                "1.1", 200), None)
    assert RedactTokens().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/teams?***&x=1 HTTP/1.1" 200'


def test_preformatted_message_is_redacted() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               "GET /x?TOKEN=s3cret-Tk 200", None, None)
    assert RedactTokens().filter(record)
    assert record.getMessage() == "GET /x?TOKEN=*** 200"


def test_encodings_too_deep_to_decode_count_as_tokens() -> None:
    deep = "%74oken"
    for _ in range(20):
        deep = deep.replace("%", "%25")
    assert mentions_token(deep)  # bounded work, and it fails closed
    assert redact_target(f"/x?{deep}=s3cret-Tk") == "/x?***"
    assert not mentions_token("%2541")  # a short, ordinary escape is decoded and judged
