"""Headless Chromium driven by Playwright, for every test that needs a real browser.

The browser is the system's (``/usr/bin/chromium``, the Debian package the test script
installs); Playwright never downloads one. Fixtures (registered for every test area by
``tests/conftest.py``):

- ``chromium``: one browser per test module;
- ``browser_page``: a page in a fresh context (empty cookie jar) per test.

``LinkPage`` serves a page on another *site* (``http://<name>.test:<port>``; the browser
resolves ``*.test`` to loopback) holding one link, as Slack would, so tests can click a
link that starts a cross-site navigation.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP *.test 127.0.0.1"]
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium is missing: scripts/bootstrap.sh --system"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, base: str, token: str, next_path: str = "/dashboards/") -> None:
    """Sign in through the form, as a person does, and wait for ``next_path`` to load."""
    page.goto(f"{base}/signin?next={next_path}")
    page.fill("input[name=token]", token)
    with page.expect_navigation():
        page.click("button[type=submit]")


class LinkPage:
    """``with LinkPage("slack", href) as other: page.goto(other.url)``: one page with one
    link (``a#link``) on another site, like a message in Slack."""

    def __init__(self, name: str, href: str) -> None:
        body = (f'<!doctype html><title>{escape(name)}</title>'
                f'<a id="link" href="{escape(href)}">Open team dashboard</a>').encode()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(body))
        self.url = f"http://{name}.test:{self._server.server_address[1]}/"

    def __enter__(self) -> LinkPage:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(body: bytes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass  # keep test output clean

    return Handler
