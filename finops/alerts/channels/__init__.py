"""Where alerts go, and how each kind of destination answers.

A destination is a Slack channel (``#name`` or an ID), or a channel declared in finops.yaml
``channels``: a named Slack channel, a generic webhook (JSON signed with HMAC-SHA256) or
email recipients (SMTP). ``resolve`` turns what finops.yaml names into a ``Destination``.

Each transport (``slack``, ``webhook``, ``email``) sends a ``Message`` and says what went
wrong as one of the ``Problem`` kinds below, which is all the delivery loop
(``finops.alerts.delivery``) needs to decide: wait (``RetryAfter``: no attempt counted),
retry with backoff (``Transient``; ``uncertain`` when the message may have arrived anyway,
so it is looked up before it is sent again), stop the transport for this run without
counting an attempt (``AuthFailed``), or dead-letter at once (``ChannelFailed`` for every
message to that channel, ``PayloadRejected`` for this one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from finops.settings import Settings
from models.config import SLACK_CHANNEL, FinOpsConfig
from models.errors import AlertDeliveryError, ConfigError


@dataclass(frozen=True)
class Destination:
    transport: str  # slack | webhook | email
    channel: str  # the Slack channel, or the declared channel's name


def resolve(config: FinOpsConfig, ref: str) -> Destination:
    """A finops.yaml channel reference (validated when the config loaded) as a destination."""
    declared = config.channel(ref)
    if declared is None:
        if not SLACK_CHANNEL.match(ref):
            raise ConfigError(f"{ref!r} is neither a Slack channel nor a declared channel")
        return Destination("slack", ref)
    if declared.type == "slack":
        return Destination("slack", str(declared.slack_channel))
    return Destination(declared.type, declared.name)


def team_destination(config: FinOpsConfig, settings: Settings, team: str | None,
                     ref: str | None = None) -> Destination:
    """``ref`` if given, else the team's Slack channel, else the platform channel."""
    if ref:
        return resolve(config, ref)
    declared = config.team(team) if team else None
    if declared and declared.slack_channel:
        return resolve(config, declared.slack_channel)
    return Destination("slack", settings.slack.platform_channel)


@dataclass(frozen=True)
class Message:
    """One thing to deliver: a new message (``post``), a reply in a conversation's thread
    (``reply``, ``thread`` = the parent's reference) or an update of a conversation's parent
    (``update``, ``ref`` = the parent's reference)."""

    key: str
    op: str
    transport: str
    channel: str
    payload: dict[str, Any]
    conversation: str | None = None
    thread: str | None = None
    ref: str | None = None
    channel_id: str | None = None
    since: datetime | None = None  # when it was first claimed: look-ups start there
    attempts: int = 0
    uncertain: bool = False  # a run that claimed it died: it may have been sent


@dataclass(frozen=True)
class Sent:
    ref: str | None  # Slack's ts, an email's Message-ID, a webhook's alert key
    channel_id: str | None = None


class Problem(AlertDeliveryError):
    """Why a message was not delivered."""


class RetryAfter(Problem):
    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class Transient(Problem):
    def __init__(self, message: str, *, uncertain: bool = False) -> None:
        super().__init__(message)
        self.uncertain = uncertain


class AuthFailed(Problem):
    pass


class ChannelFailed(Problem):
    pass


class PayloadRejected(Problem):
    pass


class Transport(Protocol):
    name: str

    def check(self) -> None:
        """Before the first message (Slack: ``auth.test``); raises a ``Problem``."""

    def send(self, message: Message) -> Sent: ...

    def update(self, message: Message) -> Sent: ...

    def find(self, message: Message) -> Sent | None:
        """The message if it was delivered after all (looked up by its key), else None."""
