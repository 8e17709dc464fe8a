"""Real HTTP stand-ins: a ``http.server`` on a free loopback port, on a daemon thread.

Slack's Web API, the Kubernetes API server and a misbehaving Prometheus are served this way
(``tests.support.slack``, ``tests.support.kube_api``, ``tests/ingestion/k8s/conftest.py``):
the clients under test speak real HTTP to them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` served by ``handler`` until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
