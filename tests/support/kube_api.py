"""A stand-in Kubernetes API server: no real one can run here, so a ``http.server`` thread
serves real-shaped API JSON for the paths the collector uses, with ``limit``/``continue``
pagination, a 410 Gone on an expired continue token and knobs for failures; the real
``kubernetes`` client reaches it through a generated kubeconfig."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml

from tests.support.http import serve_http


class FakeApi:
    """Routes path -> list document; records requests; knobs for failures."""

    def __init__(self) -> None:
        self.lists: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self.expire_next_continue = 0  # how many continue tokens to answer with 410
        self.status: dict[str, int] = {}  # path -> forced HTTP status
        self.raw: dict[str, bytes] = {}  # path -> raw body (malformed JSON)

    def page(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        self.requests.append(path + ("?continue" if "continue" in query else ""))
        if path in self.status:
            return self.status[path], json.dumps(_status(self.status[path], path)).encode()
        if path in self.raw:
            return 200, self.raw[path]
        if path not in self.lists:
            return 404, json.dumps(_status(404, path)).encode()
        doc = self.lists[path]
        items = doc.get("items") or []
        limit = int(query.get("limit", ["0"])[0]) or len(items) or 1
        token = query.get("continue", [None])[0]
        if token and self.expire_next_continue:
            self.expire_next_continue -= 1
            return 410, json.dumps(_status(410, path, "Expired")).encode()
        offset = int(token) if token else 0
        chunk = items[offset : offset + limit]
        meta = {"resourceVersion": "1"}
        if offset + limit < len(items):
            meta["continue"] = str(offset + limit)
        return 200, json.dumps({**doc, "metadata": meta, "items": chunk}).encode()


def _status(code: int, path: str, reason: str = "") -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason or {401: "Unauthorized", 403: "Forbidden"}.get(code, "NotFound"),
        "message": f"{path}: {reason or code}",
    }


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            parsed = urlparse(self.path)
            code, body = api.page(parsed.path, parse_qs(parsed.query))
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def fake_apiserver(directory: Path) -> Iterator[tuple[FakeApi, Path]]:
    """(the fake API, a kubeconfig file in ``directory`` pointing at it)."""
    api = FakeApi()
    with serve_http(_handler(api)) as host:
        yield api, write_kubeconfig(directory / "kubeconfig", host)


def write_kubeconfig(path: Path, host: str) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "test",
        "clusters": [{"name": "fake", "cluster": {"server": host}}],
        "users": [{"name": "tester", "user": {"token": "test-token"}}],
        "contexts": [{"name": "test", "context": {"cluster": "fake", "user": "tester"}}],
    }))
    return path
