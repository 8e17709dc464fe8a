"""A real HTTP server standing in for Slack's Web API, as the real SDK speaks to it.

Methods: ``auth.test``, ``chat.postMessage`` (threads, ``metadata``), ``chat.update``,
``conversations.history`` and ``conversations.replies`` (messages with their metadata when
``include_all_metadata`` is set; a channel *ID* is required, as on Slack), and
``conversations.list``. Channels are created on first use under an ID (``C…``), except the
names in ``missing`` (``channel_not_found``).

What a call answers is scripted per method, or per method and channel
(``stub.script["chat.postMessage #team-payments"] = [...]``), then ``ok``: ``ok``;
``429:<s>`` (HTTP 429, ``Retry-After: <s>``); ``500``;
``error:<code>`` (``{"ok": false, "error": code}``); ``hang`` (takes the message, then
answers after the client's timeout: the uncertain case); ``hang-drop`` (answers late and
takes nothing). ``revoked`` makes every call answer ``token_revoked``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.http import serve_http

HANG_S = 2.5  # past the 1 s client timeout of the tests


@dataclass
class SlackStub:
    url: str = ""
    script: dict[str, list[str]] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)  # channel names that do not exist
    revoked: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # accepted, in order
    updates: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def next_mode(self, method: str, channel: object = None) -> str:
        """The scripted answer of this call: ``script["<method> <channel>"]`` first (the
        channel as the client named it), then ``script["<method>"]``, else ``ok``."""
        with self.lock:
            for key in (f"{method} {channel}", method):
                if self.script.get(key):
                    return self.script[key].pop(0)
            return "ok"

    def channel_id(self, channel: str) -> str | None:
        """The ID of ``#name`` (or an ID), None for a channel that does not exist."""
        if channel in self.missing:
            return None
        if not channel.startswith("#"):
            return channel
        return "C" + hashlib.sha256(channel.encode()).hexdigest()[:10].upper()

    def new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    @property
    def posted(self) -> list[dict[str, Any]]:
        """Bodies of the messages Slack accepted, in order."""
        return [m["body"] for m in self.messages]

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method]

    def keys(self) -> list[str]:
        """Alert keys of the accepted messages (from their metadata), in order."""
        return [m["metadata"]["event_payload"]["alert_key"] for m in self.messages]


@contextmanager
def slack_server() -> Iterator[SlackStub]:
    """A fake Slack on a free loopback port; ``stub.url`` is its Web API base URL."""
    stub = SlackStub()
    with serve_http(handler(stub)) as base:
        stub.url = f"{base}/api/"
        yield stub


def _arguments(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
    query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
    if not body:
        return query
    if "json" in (handler.headers.get("Content-Type") or ""):
        return {**query, **json.loads(body)}
    return {**query, **{k: v[0] for k, v in parse_qs(body.decode()).items()}}


def handler(stub: SlackStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 — http.server's name
            self._call(b"")

        def do_POST(self) -> None:  # noqa: N802
            self._call(self.rfile.read(int(self.headers.get("Content-Length", 0))))

        def _call(self, body: bytes) -> None:
            method = urlsplit(self.path).path.removeprefix("/api/")
            args = _arguments(self, body)
            mode = stub.next_mode(method, args.get("channel"))
            with stub.lock:
                stub.requests.append({"method": method, "mode": mode, "body": args,
                                      "auth": self.headers.get("Authorization"),
                                      "at": time.monotonic()})
            status, answer, headers = self._answer(method, mode, args)
            self._send(status, answer, headers)

        def _answer(self, method: str, mode: str, args: dict[str, Any],
                    ) -> tuple[int, dict[str, Any], dict[str, str]]:
            if stub.revoked:
                return 200, {"ok": False, "error": "token_revoked"}, {}
            if mode.startswith("429:"):
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": mode[4:]}
            if mode == "500":
                return 500, {"ok": False, "error": "internal_error"}, {}
            if mode.startswith("error:"):
                return 200, {"ok": False, "error": mode[6:]}, {}
            if mode == "hang-drop":
                time.sleep(HANG_S)
                return 200, {"ok": False, "error": "internal_error"}, {}
            answer = METHODS[method](stub, args) if method in METHODS else {
                "ok": False, "error": "unknown_method"}
            if mode == "hang":
                time.sleep(HANG_S)
            return 200, answer, {}

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _post(stub: SlackStub, args: dict[str, Any]) -> dict[str, Any]:
    channel = stub.channel_id(str(args.get("channel")))
    if channel is None:
        return {"ok": False, "error": "channel_not_found"}
    metadata = args.get("metadata")
    message = {"channel": channel, "ts": stub.new_ts(), "text": args.get("text"),
               "thread_ts": args.get("thread_ts"), "body": args,
               "metadata": json.loads(metadata) if isinstance(metadata, str) else metadata}
    with stub.lock:
        stub.messages.append(message)
    return {"ok": True, "channel": channel, "ts": message["ts"]}


def _update(stub: SlackStub, args: dict[str, Any]) -> dict[str, Any]:
    channel = stub.channel_id(str(args.get("channel")))
    found = [m for m in stub.messages if m["channel"] == channel and m["ts"] == args.get("ts")]
    if not found:
        return {"ok": False, "error": "message_not_found"}
    with stub.lock:
        stub.updates.append({**args, "channel": channel})
    return {"ok": True, "channel": channel, "ts": args.get("ts")}


def _shown(message: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    shown = {"ts": message["ts"], "text": message["text"]}
    if message["thread_ts"]:
        shown["thread_ts"] = message["thread_ts"]
    if str(args.get("include_all_metadata")).lower() in ("1", "true") and message["metadata"]:
        shown["metadata"] = message["metadata"]
    return shown


def _history(stub: SlackStub, args: dict[str, Any]) -> dict[str, Any]:
    channel = str(args.get("channel"))
    if channel.startswith("#"):  # Slack wants the ID here
        return {"ok": False, "error": "channel_not_found"}
    oldest = float(args.get("oldest") or 0)
    found = [m for m in stub.messages if m["channel"] == channel and not m["thread_ts"]
             and float(m["ts"]) >= oldest]
    return {"ok": True, "messages": [_shown(m, args) for m in reversed(found)],
            "has_more": False}


def _replies(stub: SlackStub, args: dict[str, Any]) -> dict[str, Any]:
    channel, ts = str(args.get("channel")), str(args.get("ts"))
    found = [m for m in stub.messages if m["channel"] == channel
             and (m["ts"] == ts or m["thread_ts"] == ts)]
    if not found:
        return {"ok": False, "error": "thread_not_found"}
    return {"ok": True, "messages": [_shown(m, args) for m in found], "has_more": False}


def _list(stub: SlackStub, args: dict[str, Any]) -> dict[str, Any]:
    # every channel a message was addressed to exists (unless it is missing)
    names = {str(r["body"].get("channel")) for r in stub.calls("chat.postMessage")}
    names -= stub.missing
    return {"ok": True, "channels": [{"id": stub.channel_id(n), "name": n[1:]}
                                     for n in sorted(names) if n.startswith("#")],
            "response_metadata": {"next_cursor": ""}}


METHODS = {
    "auth.test": lambda stub, args: {"ok": True, "user_id": "UFINOPS", "team": "acme"},
    "chat.postMessage": _post, "chat.update": _update, "conversations.history": _history,
    "conversations.replies": _replies, "conversations.list": _list,
}
