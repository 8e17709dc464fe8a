"""Webhook and email channels through whole checks: a real HTTP receiver that verifies the
HMAC signature, and a real SMTP server (aiosmtpd); what arrived, once, threaded, in order."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from email.message import Message as Mail
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from finops.alerts.channels.webhook import signature
from finops.alerts.check import CheckResult, check
from finops.settings import Settings
from finops.warehouse import Warehouse
from models.config import FinOpsConfig, parse_config
from tests.support.budget_data import CONFIG, held
from tests.support.http import serve_http
from tests.support.net import free_port
from tests.support.slack import SlackStub

pytestmark = pytest.mark.integration

SECRET = "hook-secret"
THRESHOLD = "budget:payments-monthly:2026-10"  # the conversation


class Receiver:
    """A webhook receiver: checks the signature as the docstring tells receivers to."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.answers: list[int] = []  # scripted statuses, then 200
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["X-Finops-Timestamp"]
                good = signature(SECRET.encode(), stamp, body)
                with receiver.lock:
                    if not hmac.compare_digest(good, self.headers["X-Finops-Signature"]):
                        receiver.refused.append(stamp)
                        status = 401
                    else:
                        status = receiver.answers.pop(0) if receiver.answers else 200
                        if status == 200:
                            parsed = json.loads(body)
                            assert parsed["alert_key"] == self.headers["Idempotency-Key"]
                            receiver.bodies.append(parsed)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Mail]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hook = Receiver()
    with serve_http(hook.handler()) as url:
        yield hook, url


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def config_for(url: str) -> FinOpsConfig:
    budget = {**CONFIG["budgets"][0], "channel": "payments-hook", "thresholds": [  # type: ignore[dict-item]
        {"percent": 50}, {"percent": 80, "also_to": ["finance-mail"]},
        {"percent": 100, "kind": "forecast"}]}
    return parse_config({**CONFIG, "budgets": [budget], "channels": [
        {"name": "payments-hook", "type": "webhook", "url": f"{url}/hook"},
        {"name": "finance-mail", "type": "email", "to": ["finance@example.com"]}]})


def with_channels(settings: Settings, smtp_port: int) -> Settings:
    return settings.model_copy(update={
        "webhook": settings.webhook.model_copy(update={"secrets": {
            "payments-hook": SecretStr(SECRET)}, "timeout_s": 2.0}),
        "smtp": settings.smtp.model_copy(update={
            "host": "127.0.0.1", "port": smtp_port, "starttls": False,
            "sender": "finops@example.com"})})


def run(wh: Warehouse, config: FinOpsConfig, settings: Settings, day: str) -> CheckResult:
    return check(held(wh), config, settings, as_of=date.fromisoformat(day), send=True)


def test_webhook_conversation_and_email_recipient(
        budget_wh: Warehouse, settings: Settings, slack: SlackStub,
        receiver: tuple[Receiver, str], inbox: tuple[Inbox, int]) -> None:
    hook, url = receiver
    box, port = inbox
    config, wired = config_for(url), with_channels(settings, port)
    hook.answers = [500]  # the first post fails once: retried within the run
    first = run(budget_wh, config, wired, "2026-10-12")  # forecast 100 % and actual 50 %
    assert first.report and first.report.dead == []
    assert [(b["op"], b["alert_key"]) for b in hook.bodies] == [
        ("post", f"{THRESHOLD}:forecast:100")]
    assert hook.bodies[0]["text"].startswith(
        "Budget payments-monthly 2026-10: forecast 100% (with actual 50%) crossed")
    run(budget_wh, config, wired, "2026-10-20")  # 80 %: a reply, the parent updated, a mail
    run(budget_wh, config, wired, "2026-10-20")  # nothing new
    assert [(b["op"], b["alert_key"]) for b in hook.bodies] == [
        ("post", f"{THRESHOLD}:forecast:100"), ("reply", f"{THRESHOLD}:actual:80"),
        ("update", f"update:{THRESHOLD}:2")]  # version 2 of the parent
    reply = hook.bodies[1]
    assert (reply["conversation"], reply["thread"]) == (THRESHOLD, f"{THRESHOLD}:forecast:100")
    assert hook.refused == []
    [(rcpt, mail)] = box.mails
    assert rcpt == ["finance@example.com"] and mail["From"] == "finops@example.com"
    assert str(mail["Subject"]).startswith("Budget payments-monthly 2026-10: actual 80% crossed")
    assert "$1,388.20 of $1,500.00" in mail.get_payload()


def test_a_webhook_that_is_gone_dead_letters_naming_it(
        budget_wh: Warehouse, settings: Settings, slack: SlackStub,
        receiver: tuple[Receiver, str], inbox: tuple[Inbox, int]) -> None:
    hook, url = receiver
    hook.answers = [404]
    result = run(budget_wh, config_for(url), with_channels(settings, inbox[1]), "2026-10-12")
    assert result.report is not None
    [(key, error)] = result.report.dead
    assert key == f"{THRESHOLD}:forecast:100"
    assert "webhook payments-hook answered HTTP 404" in error
    assert hook.bodies == []
