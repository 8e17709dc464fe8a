"""Keep tokens out of logs, whatever encoding a URL hides them in.

A query parameter is redacted when its text, percent- and plus-decoded until it stops
changing, mentions ``token`` in any case: ``?token=``, ``?%74oken=``, ``?TOKEN=``,
``?next=%2F%3Ftoken%3D…`` and double encodings alike. The query of ``/signin`` (the one place
a URL token is accepted) is never logged at all.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

REDACTED = "***"
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")
_SIGNIN_PATHS = ("/signin", "/signout")


_ROUNDS = 8


def decoded(text: str) -> str | None:
    """``text`` percent/plus-decoded until it stops changing; None if it still changes after
    a few rounds (bounded work; such text is treated as hiding a token)."""
    for _ in range(_ROUNDS):
        once = unquote_plus(text)
        if once == text:
            return text
        text = once
    return None


def mentions_token(text: str) -> bool:
    plain = decoded(text)
    return plain is None or "token" in plain.lower()


def redact_target(target: str) -> str:
    """A request target (path and query, as logged) with every token-bearing part masked."""
    path, sep, query = target.partition("?")
    if mentions_token(path):
        return REDACTED  # e.g. a `?` percent-encoded into the path: nothing of it is kept
    if not sep:
        return target
    if (decoded(path) or "").rstrip("/").lower() in _SIGNIN_PATHS:
        return f"{path}?{REDACTED}"
    return f"{path}?{'&'.join(_redact_pair(pair) for pair in query.split('&'))}"


def _redact_pair(pair: str) -> str:
    if not mentions_token(pair):
        return pair
    key = pair.partition("=")[0]
    # A plain key cannot hide a secret; an encoded one (`token%3Dabc`) might, so it goes too.
    return f"{key}={REDACTED}" if _PLAIN_KEY.match(key) else REDACTED


class RedactTokens(logging.Filter):
    """On uvicorn's access logger: no request target reaches a log line with a token in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_target(a) if isinstance(a, str) else a
                                for a in record.args)
        elif isinstance(record.msg, str) and mentions_token(record.msg):
            record.msg = " ".join(redact_target(word) for word in record.msg.split(" "))
        return True
