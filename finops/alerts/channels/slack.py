"""Slack through its Web API (``slack_sdk.WebClient``): ``auth.test`` before the first message,
``chat.postMessage`` (threads by ``thread_ts``), ``chat.update`` for a conversation's parent,
and ``conversations.history`` / ``conversations.replies`` to find a message by the alert key
carried in its ``metadata`` when a post timed out.

The bot needs the scopes ``chat:write``, ``channels:history`` and ``groups:history`` (the
look-up), and ``channels:read`` / ``groups:read`` to find a channel's ID from its ``#name``.
The SDK's own retries are off: the delivery loop decides what a 429, a 5xx or a timeout means.
"""

from __future__ import annotations

import urllib.error
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from finops.alerts.channels import (
    AuthFailed,
    ChannelFailed,
    Message,
    PayloadRejected,
    Problem,
    RetryAfter,
    Sent,
    Transient,
)
from finops.settings import Settings
from models.errors import AlertDeliveryError

EVENT_TYPE = "finops_alert"
AUTH_ERRORS = frozenset({
    "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
    "missing_scope", "not_allowed_token_type", "no_permission", "ekm_access_denied",
    "team_access_not_granted", "org_login_required"})
CHANNEL_ERRORS = frozenset({
    "channel_not_found", "is_archived", "channel_is_archived", "not_in_channel",
    "restricted_action", "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel", "restricted_action_non_threadable_channel",
    "team_not_found", "no_such_channel"})
PAYLOAD_ERRORS = frozenset({
    "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "invalid_arguments",
    "too_many_attachments", "invalid_metadata_format", "invalid_metadata_schema",
    "metadata_too_large", "thread_not_found", "message_not_found", "cant_update_message",
    "edit_window_closed", "invalid_ts_latest", "invalid_ts_oldest"})


def client(settings: Settings) -> WebClient:
    """The Web API client; the token comes only from settings (env), never from config."""
    if settings.slack.token is None:
        raise AlertDeliveryError(
            "no Slack token: set FINOPS_SLACK__TOKEN (a bot token with chat:write), "
            "or run without --send to print the messages")
    base_url = settings.slack.base_url.rstrip("/") + "/"
    return WebClient(token=settings.slack.token.get_secret_value(), base_url=base_url,
                     timeout=max(1, round(settings.slack.timeout_s)), retry_handlers=[])


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def problem(exc: Exception, what: str) -> Problem:
    """What a failed Web API call means for delivery."""
    if isinstance(exc, SlackApiError):
        return _api_problem(exc, what)
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    text = f"Slack unreachable ({what}): {type(reason).__name__}: {reason}"
    if isinstance(reason, ConnectionRefusedError):
        return Transient(text)  # nothing reached Slack
    # A timeout or a dropped connection: Slack may have taken the message all the same.
    return Transient(text, uncertain=isinstance(reason, OSError))


def _api_problem(exc: SlackApiError, what: str) -> Problem:
    response = exc.response
    error = response.data.get("error") if isinstance(response.data, dict) else None
    status = response.status_code
    text = f"Slack refused {what} (HTTP {status}: {error or 'no error given'})"
    if status == 429 or error == "ratelimited":
        wait = _header(response.headers, "Retry-After")
        return RetryAfter(text, float(wait) if wait and wait.isdigit() else 1.0)
    if error in AUTH_ERRORS:
        return AuthFailed(f"Slack rejected the token ({error}): fix FINOPS_SLACK__TOKEN "
                          "(a bot token with chat:write); nothing was counted as an attempt")
    if error in CHANNEL_ERRORS:
        return ChannelFailed(text)
    if error in PAYLOAD_ERRORS:
        return PayloadRejected(text)
    return Transient(text)


class SlackTransport:
    name = "slack"

    def __init__(self, web: WebClient) -> None:
        self.web = web
        self._ids: dict[str, str] = {}

    def check(self) -> None:
        try:
            self.web.auth_test()
        except Exception as exc:  # noqa: BLE001 — every failure is classified
            raise problem(exc, "auth.test") from None

    def send(self, message: Message) -> Sent:
        payload = message.payload
        try:
            response = self.web.chat_postMessage(
                channel=message.channel_id or message.channel, text=payload["text"],
                blocks=payload["blocks"], thread_ts=message.thread, unfurl_links=False,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"alert_key": message.key}})
        except Exception as exc:  # noqa: BLE001
            raise problem(exc, f"the message to {message.channel}") from None
        return self._sent(message, response.get("ts"), response.get("channel"))

    def _sent(self, message: Message, ts: Any, channel_id: Any) -> Sent:
        if channel_id:
            self._ids[message.channel] = str(channel_id)
        return Sent(str(ts) if ts else None, str(channel_id) if channel_id else None)

    def update(self, message: Message) -> Sent:
        channel = message.channel_id or self.channel_id(message.channel)
        try:
            response = self.web.chat_update(channel=channel, ts=str(message.ref),
                                            text=message.payload["text"],
                                            blocks=message.payload["blocks"])
        except Exception as exc:  # noqa: BLE001
            raise problem(exc, f"the update in {message.channel}") from None
        return self._sent(message, response.get("ts"), response.get("channel"))

    def find(self, message: Message) -> Sent | None:
        channel = message.channel_id or self.channel_id(message.channel)
        try:
            found = self._messages(channel, message)
        except Exception as exc:  # noqa: BLE001
            raise problem(exc, f"the look-up in {message.channel}") from None
        for item in found:
            meta = item.get("metadata") or {}
            if (meta.get("event_type") == EVENT_TYPE
                    and (meta.get("event_payload") or {}).get("alert_key") == message.key):
                return Sent(str(item.get("ts")), channel)
        return None

    def _messages(self, channel: str, message: Message) -> list[dict[str, Any]]:
        if message.thread:
            response = self.web.conversations_replies(channel=channel, ts=message.thread,
                                                      include_all_metadata=True, limit=200)
        else:
            since = (message.since or datetime.now()) - timedelta(minutes=5)
            response = self.web.conversations_history(
                channel=channel, oldest=f"{_epoch(since):.6f}", include_all_metadata=True,
                limit=200)
        return list(response.get("messages") or [])

    def channel_id(self, channel: str) -> str:
        """Slack's ID of ``#name`` (history look-ups need it): from an earlier answer, else
        ``conversations.list``."""
        if not channel.startswith("#"):
            return channel
        if channel not in self._ids:
            self._ids.update(self._list_channels())
        if channel not in self._ids:
            raise ChannelFailed(f"Slack has no channel {channel} the bot can see")
        return self._ids[channel]

    def _list_channels(self) -> dict[str, str]:
        found: dict[str, str] = {}
        cursor = None
        try:
            while True:
                page = self.web.conversations_list(types="public_channel,private_channel",
                                                   exclude_archived=True, limit=1000,
                                                   cursor=cursor)
                found.update({f"#{c['name']}": c["id"] for c in page.get("channels") or []})
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return found
        except Exception as exc:  # noqa: BLE001
            raise problem(exc, "conversations.list") from None


def _epoch(moment: datetime) -> float:
    """Seconds since 1970 of a naive UTC time."""
    return (moment - datetime(1970, 1, 1)).total_seconds()
