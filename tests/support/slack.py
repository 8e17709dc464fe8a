"""A real HTTP server standing in for Slack's Web API (``POST /api/chat.postMessage``).

It answers ``{"ok": true, "ts": …}`` or, as told by ``modes``/``default``: HTTP 500,
``{"ok": false, "error": "channel_not_found"}``, or a reply slower than the client's timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.http import serve_http


@dataclass
class SlackStub:
    """What the fake Slack answers: a queue of modes, then ``default``."""

    url: str = ""
    default: str = "ok"
    modes: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_mode(self) -> str:
        with self.lock:
            return self.modes.pop(0) if self.modes else self.default

    @property
    def posted(self) -> list[dict[str, Any]]:
        """Messages Slack accepted."""
        return [r["body"] for r in self.requests if r["mode"] == "ok"]


@contextmanager
def slack_server() -> Iterator[SlackStub]:
    """A fake Slack on a free loopback port; ``stub.url`` is its Web API base URL."""
    stub = SlackStub()
    with serve_http(handler(stub)) as base:
        stub.url = f"{base}/api/"
        yield stub


def handler(stub: SlackStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 — http.server's name
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            mode = stub.next_mode()
            stub.requests.append({"path": self.path, "mode": mode, "body": body,
                                  "auth": self.headers.get("Authorization")})
            if self.path != "/api/chat.postMessage":
                return self._send(404, {"ok": False, "error": "unknown_method"})
            if mode == "slow":
                time.sleep(3)  # past the client's 1 s timeout
                return self._send(200, {"ok": True, "ts": "0.0"})
            if mode == "500":
                return self._send(500, {"ok": False, "error": "internal_error"}, raw=b"oops")
            if mode == "not_ok":
                return self._send(200, {"ok": False, "error": "channel_not_found"})
            ts = f"{time.time():.6f}"
            return self._send(200, {"ok": True, "channel": body.get("channel"), "ts": ts})

        def _send(self, status: int, payload: dict[str, Any], raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
