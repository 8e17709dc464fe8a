"""Headless Chromium driven by Playwright, for every test that needs a real browser.

The browser is the system's (``/usr/bin/chromium``, the Debian package the test script
installs); Playwright never downloads one. Fixtures (registered for every test area by
``tests/conftest.py``):

- ``chromium``: one browser per test module;
- ``browser_page``: a page in a fresh context (empty cookie jar) per test.

``link_page`` serves a page on another *site* (``http://<name>.test:<port>``; the browser
resolves ``*.test`` to loopback) holding one link, as Slack would, so tests can click a
link that starts a cross-site navigation.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.http import serve_http

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


@contextmanager
def link_page(name: str, href: str) -> Iterator[str]:
    """The URL of one page with one link (``a#link``) to ``href`` on another site
    (``http://<name>.test:<port>/``), like a message in Slack, until the block ends."""
    body = (f'<!doctype html><title>{escape(name)}</title>'
            f'<a id="link" href="{escape(href)}">Open team dashboard</a>').encode()
    with serve_http(_handler(body)) as base:
        yield f"http://{name}.test:{base.rsplit(':', 1)[1]}/"


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


class Watched:
    """A page whose console errors, failed responses and requested URLs are recorded, so a
    test can say nothing broke and nothing left the machine."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.requested: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requested.append(r.url))
        page.on("response", lambda r: self.failed.append(f"HTTP {r.status} {r.url}")
                if r.status >= 400 else None)

    def outside(self, base: str) -> list[str]:
        """What the page requested from anywhere but ``base`` (inline data aside)."""
        return [u for u in self.requested if not u.startswith((f"{base}/", "data:", "blob:"))]

    def check(self, base: str) -> None:
        """No script error, no failed response, nothing requested outside ``base``."""
        assert self.errors == [] and self.failed == []
        assert self.outside(base) == []
