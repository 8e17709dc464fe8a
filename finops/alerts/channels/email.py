"""Email through SMTP (Python's ``smtplib``): one plain-text mail per message.

A conversation is a mail thread: the first message's ``Message-ID`` is derived from its
alert key, and replies carry it in ``In-Reply-To`` / ``References``, so mail clients thread
them; an update of a conversation is not mailed (a mail cannot be edited). A timed-out
session is sent again with the same ``Message-ID`` (mail systems drop repeats by it).
Refused recipients mean the channel is wrong (dead at once, naming it); a 4xx answer is
retried, other 5xx answers reject the message; a refused login stops email for this run.
"""

from __future__ import annotations

import hashlib
import smtplib
import socket
from email.message import EmailMessage
from email.utils import formatdate

from finops.alerts.channels import (
    AuthFailed,
    ChannelFailed,
    Message,
    PayloadRejected,
    Sent,
    Transient,
)
from finops.alerts.compose import plain
from finops.settings import Settings
from models.config import FinOpsConfig


def message_id(key: str) -> str:
    """A stable ``Message-ID`` for an alert key."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@finops.alerts>"


def build(message: Message, sender: str, to: list[str]) -> EmailMessage:
    mail = EmailMessage()
    subject = message.payload["text"].split(". ")[0]
    mail["Subject"] = subject[:150]
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(message.key)
    if message.thread:
        mail["In-Reply-To"] = message.thread
        mail["References"] = message.thread
    mail.set_content(plain(message.payload) + "\n")
    return mail


class EmailTransport:
    name = "email"

    def __init__(self, config: FinOpsConfig, settings: Settings) -> None:
        self.config = config
        self.smtp = settings.smtp

    def check(self) -> None:
        if self.smtp.host is None:
            raise AuthFailed("email channels need a mail server: set FINOPS_SMTP__HOST "
                             "(and FINOPS_SMTP__SENDER)")

    def _recipients(self, channel: str) -> list[str]:
        declared = self.config.channel(channel)
        if declared is None or not declared.to:
            raise ChannelFailed(f"email channel {channel!r} is not declared in finops.yaml")
        return list(declared.to)

    def send(self, message: Message) -> Sent:
        to = self._recipients(message.channel)
        mail = build(message, self.smtp.sender, to)
        try:
            self._deliver(mail, to)
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthFailed(f"the mail server refused the login: {exc.smtp_code} "
                             f"{exc.smtp_error!r}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelFailed(f"email channel {message.channel}: the mail server refused "
                                f"{sorted(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            error = f"mail server answered {exc.smtp_code} {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                raise Transient(error) from None
            raise PayloadRejected(error) from None
        except (smtplib.SMTPException, OSError) as exc:
            timeout = isinstance(exc, socket.timeout | TimeoutError)
            raise Transient(f"mail server unreachable: {type(exc).__name__}: {exc}",
                            uncertain=timeout) from None
        return Sent(str(mail["Message-ID"]))

    def _deliver(self, mail: EmailMessage, to: list[str]) -> None:
        smtp = self.smtp
        with smtplib.SMTP(str(smtp.host), smtp.port, timeout=smtp.timeout_s) as session:
            if smtp.starttls:
                session.starttls()
            if smtp.username and smtp.password:
                session.login(smtp.username, smtp.password.get_secret_value())
            session.send_message(mail, from_addr=smtp.sender, to_addrs=to)

    def update(self, message: Message) -> Sent:
        return Sent(None)  # a sent mail cannot change

    def find(self, message: Message) -> Sent | None:
        return None  # not askable: sent again with the same Message-ID
