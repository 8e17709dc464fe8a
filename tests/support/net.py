"""Loopback ports and waiting for a real server to answer."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port nothing listens on right now (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(url: str, process: subprocess.Popen[bytes] | None = None,
                     log: Path | None = None, *, timeout_s: float = 60.0,
                     ok: Callable[[httpx.Response], bool] | None = None) -> None:
    """Poll ``url`` until it answers (200 by default); fail early if ``process`` exits.

    The error carries the tail of ``log`` so a server that did not start says why.
    """
    accept = ok or (lambda response: response.status_code == 200)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{url}: the server exited ({process.returncode}):\n{_tail(log)}")
        try:
            if accept(httpx.get(url, timeout=2)):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url}: not ready after {timeout_s:.0f}s:\n{_tail(log)}")


def _tail(log: Path | None, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log and log.exists() else "(no log)"
