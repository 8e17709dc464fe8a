"""A real moto S3 server on loopback, and the fake credentials that sign requests to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.net import free_port

# Fake credentials so clients sign requests; never a real account.
FAKE_AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on a free 127.0.0.1 port (real HTTP); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
