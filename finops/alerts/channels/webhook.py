"""A generic webhook: each message is an HTTP POST of JSON, signed with HMAC-SHA256.

The body is ``{"alert_key", "op", "conversation", "thread", "text", "blocks", "facts"}``;
``op`` is ``post``, ``reply`` (in the conversation ``thread`` opened) or ``update`` (the
conversation's state changed). Headers:

- ``X-Finops-Timestamp``: seconds since 1970 when it was signed;
- ``X-Finops-Signature``: ``v1=`` + hex HMAC-SHA256 of ``v1:<timestamp>:<body>`` with the
  channel's secret (``FINOPS_WEBHOOK__SECRETS``), like Slack's own scheme: a receiver
  recomputes it, compares in constant time and refuses old timestamps;
- ``Idempotency-Key``: the alert key. A webhook cannot be asked whether a message arrived,
  so after a timeout it is sent again with the same key: the receiver drops repeats.

2xx is delivered; 429 (``Retry-After``) waits; 5xx and network errors are retried; 401,
403, 404 and 410 mean the channel is wrong (dead at once, naming it); other 4xx reject
the message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from finops.alerts.channels import (
    ChannelFailed,
    Message,
    PayloadRejected,
    RetryAfter,
    Sent,
    Transient,
)
from finops.settings import Settings
from models.config import FinOpsConfig


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 of ``v1:<timestamp>:<body>``."""
    mac = hmac.new(secret, b"v1:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


class WebhookTransport:
    name = "webhook"

    def __init__(self, config: FinOpsConfig, settings: Settings,
                 http: httpx.Client | None = None) -> None:
        self.config = config
        self.secrets = settings.webhook.secrets
        self.http = http or httpx.Client(timeout=settings.webhook.timeout_s,
                                         follow_redirects=False)

    def check(self) -> None:
        return None  # each webhook answers for itself

    def _target(self, channel: str) -> tuple[str, bytes]:
        declared = self.config.channel(channel)
        if declared is None or declared.url is None:
            raise ChannelFailed(f"webhook channel {channel!r} is not declared in finops.yaml")
        secret = self.secrets.get(channel)
        if secret is None:
            raise ChannelFailed(f"webhook channel {channel!r} has no signing secret: set "
                                f"FINOPS_WEBHOOK__SECRETS='{{\"{channel}\": \"…\"}}'")
        return declared.url, secret.get_secret_value().encode()

    def send(self, message: Message) -> Sent:
        url, secret = self._target(message.channel)
        body = json.dumps({
            "alert_key": message.key, "op": message.op, "conversation": message.conversation,
            "thread": message.thread, "text": message.payload["text"],
            "blocks": message.payload["blocks"], "facts": message.payload.get("facts", {}),
        }, default=str, sort_keys=True).encode()
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Finops-Timestamp": stamp,
                   "X-Finops-Signature": signature(secret, stamp, body),
                   "Idempotency-Key": message.key}
        try:
            response = self.http.post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise Transient(f"webhook {message.channel} timed out: {exc}",
                            uncertain=True) from None
        except httpx.HTTPError as exc:
            raise Transient(f"webhook {message.channel} unreachable: {exc}") from None
        _check(response, message.channel)
        return Sent(message.key)

    def update(self, message: Message) -> Sent:
        return self.send(message)

    def find(self, message: Message) -> Sent | None:
        return None  # not askable: sent again under the same Idempotency-Key


def _check(response: httpx.Response, channel: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    text = f"webhook {channel} answered HTTP {status}: {response.text[:200]}"
    if status == 429:
        wait = response.headers.get("Retry-After", "1")
        raise RetryAfter(text, float(wait) if wait.isdigit() else 1.0)
    if status in (401, 403, 404, 410):
        raise ChannelFailed(text)
    if status >= 500:
        raise Transient(text)
    raise PayloadRejected(text)

