"""The serving load stage's clients and arithmetic: percentiles, errors, the report table."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest
from rich.console import Console

from benchmarks.load import RouteResult, hammer, percentile
from benchmarks.report import serve_table
from tests.support.http import serve_http


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100 ms
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == \
        (50.0, 95.0, 99.0)
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) is None


def test_a_summary_counts_errors_and_throughput() -> None:
    result = RouteResult("/x", latencies_ms=[10.0, 20.0, 30.0], errors=["500 b'boom'"],
                         wall_s=0.5, bytes=300, client_cpu_s=0.003)
    summary = result.summary()
    assert summary["requests"] == 3 and summary["errors"] == 1
    assert summary["req_per_s"] == 6.0 and summary["bytes_per_response"] == 100
    assert summary["p50_ms"] == 20.0 and summary["max_ms"] == 30.0
    assert summary["client_cpu_ms"] == 1.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients use it

    def do_GET(self) -> None:  # noqa: N802
        status = 200 if self.headers.get("Authorization") == "Bearer t" else 401
        if self.path == "/chunked":  # two chunks, as a streamed response comes
            self.send_response(status)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
            return
        body = b"x" * 100 if self.path in ("/ok", "/close") else b"no"
        self.send_response(404 if body == b"no" else status)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":  # the server ends the connection after each answer
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.integration
def test_hammer_sends_every_request_and_reports_non_200_as_errors() -> None:
    with serve_http(Handler) as base:
        good = hammer(base, {"Authorization": "Bearer t"}, "/ok", requests=60, clients=5)
        bad = hammer(base, {"Authorization": "Bearer t"}, "/missing", requests=10, clients=5)
        chunked = hammer(base, {"Authorization": "Bearer t"}, "/chunked", requests=10, clients=2)
        closing = hammer(base, {"Authorization": "Bearer t"}, "/close", requests=10, clients=2)
        refused = hammer(base, {}, "/ok", requests=5, clients=1)
    assert len(good.latencies_ms) == 60 and good.errors == [] and good.bytes == 6000
    assert len(bad.errors) == 10 and bad.errors[0].startswith("404")
    assert chunked.errors == [] and chunked.bytes == 70  # "abcdefg" x 10
    assert closing.errors == [] and closing.bytes == 1000  # reconnected each time
    assert len(refused.errors) == 5 and refused.errors[0].startswith("401")


def test_the_serve_table_renders() -> None:
    route = {**RouteResult("/api/teams", [5.0, 6.0], wall_s=1.0).summary(),
             "cold_ms": 40.0, "server_cpu_ms": 1.5}
    result = {"size": "S", "clients": 20, "requests_per_route": 400, "date": "2026-12-01",
              "commit": "abc", "machine": {"load_avg_before": [1.0], "load_avg_after": [2.0]},
              "routes": [route]}
    console = Console(record=True, width=200)
    console.print(serve_table(result))
    text = console.export_text()
    assert "/api/teams" in text and "1.5" in text
