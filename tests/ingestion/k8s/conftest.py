"""Real servers for the Kubernetes collector tests.

- ``prometheus_url``: a real Prometheus (``tests.support.prometheus``) on a free loopback
  port, TSDB backfilled once per session by promtool from ``k8s_scenario``'s OpenMetrics;
  a 30 s lookback stands in for the staleness markers a live scrape writes.
- ``fake_apiserver``: no real Kubernetes API server can run here, so a ``http.server`` thread
  serves real-shaped API JSON (the recorded lists in ``data/``) for the paths the collector
  uses, with ``limit``/``continue`` pagination, a 410 Gone on an expired continue token and
  ``metrics.k8s.io``; the real ``kubernetes`` client reaches it through a generated kubeconfig.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from k8s_scenario import openmetrics

from tests.support.prometheus import backfill, prometheus, require_tools

DATA = Path(__file__).parent / "data"



@pytest.fixture(scope="session")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("prometheus")
    require_tools()
    source = root / "series.om"
    with source.open("w") as handle:
        handle.writelines(openmetrics())
    backfill(source, root / "tsdb")
    with prometheus(root, root / "tsdb", lookback="30s") as server:
        yield server.url


# -- fake Kubernetes API server ----------------------------------------------------------
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


@pytest.fixture
def fake_apiserver(tmp_path: Path) -> Iterator[tuple[FakeApi, Path]]:
    """(the fake API, a kubeconfig file pointing at it)."""
    api = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"http://127.0.0.1:{server.server_address[1]}"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "test",
                "clusters": [{"name": "fake", "cluster": {"server": host}}],
                "users": [{"name": "tester", "user": {"token": "test-token"}}],
                "contexts": [{"name": "test", "context": {"cluster": "fake", "user": "tester"}}],
            }
        )
    )
    try:
        yield api, kubeconfig
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def load_sample() -> Callable[[str], Any]:
    def load(name: str) -> Any:
        return json.loads((DATA / name).read_text())

    return load


class BadProm:
    """A stand-in Prometheus that answers every query the same bad way (``mode``)."""

    def __init__(self) -> None:
        self.mode = "401"
        self.hits = 0


@pytest.fixture
def bad_prometheus() -> Iterator[tuple[BadProm, str]]:
    state = BadProm()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            state.hits += 1
            if state.mode == "slow":
                time.sleep(1.0)
            code, body = {
                "401": (401, b"Unauthorized"),
                "403": (403, b"Forbidden"),
                "500": (500, b"boom"),
                "malformed": (200, b'{"status": "success", "data": '),
                "slow": (200, b'{"status":"success","data":{"resultType":"matrix","result":[]}}'),
            }[state.mode]
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
