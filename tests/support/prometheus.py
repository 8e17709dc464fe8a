"""A real Prometheus on a loopback port, its TSDB backfilled from OpenMetrics by promtool.

Used by the Kubernetes collector tests and ``benchmarks/prometheus_collect.py``; beside it,
``bad_prometheus`` is an HTTP stand-in that answers every query wrongly (401, 500, slow …). A
backfilled block has no staleness markers, so ``lookback`` (``--query.lookback-delta``)
stands in for them: a series that stops (a deleted pod) stops counting at its last sample
instead of lingering for Prometheus' default 5 minutes.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.support.http import serve_http
from tests.support.net import free_port, wait_until_ready


@dataclass(frozen=True)
class Prometheus:
    process: subprocess.Popen[bytes]
    url: str


def require_tools() -> None:
    """Both binaries of the Debian package ``prometheus``, or an error saying so."""
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} missing: apt-get install prometheus "
                               "(scripts/apt-packages.txt)")


def start_backfill(source: Path, tsdb: Path) -> subprocess.Popen[bytes]:
    """promtool turning one OpenMetrics file into TSDB blocks, started: the caller may write
    the next file meanwhile, then ``finish_backfill``."""
    return subprocess.Popen(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(source), str(tsdb)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish_backfill(process: subprocess.Popen[bytes], source: Path,
                    timeout_s: float = 1800) -> None:
    _out, err = process.communicate(timeout=timeout_s)
    if process.returncode != 0:
        raise RuntimeError(f"promtool failed on {source}: {err.decode()[-2000:]}")


def backfill(source: Path, tsdb: Path) -> None:
    finish_backfill(start_backfill(source, tsdb), source)


@contextmanager
def prometheus(work: Path, tsdb: Path, *, lookback: str, flags: Sequence[str] = (),
               timeout_s: float = 60) -> Iterator[Prometheus]:
    """A Prometheus serving ``tsdb`` (empty scrape config, log in ``work``) until the block
    ends; ``flags`` are added to its command line."""
    require_tools()
    (work / "prometheus.yml").write_text("global: {}\nscrape_configs: []\n")
    port, log = free_port(), work / "prometheus.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["prometheus", f"--config.file={work / 'prometheus.yml'}",
             f"--storage.tsdb.path={tsdb}", f"--web.listen-address=127.0.0.1:{port}",
             "--storage.tsdb.retention.time=100y", f"--query.lookback-delta={lookback}",
             "--log.level=warn", *flags],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{url}/-/ready", process, log, timeout_s=timeout_s)
        yield Prometheus(process, url)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class BadPrometheus:
    """What a stand-in Prometheus answers to every query, the same bad way (``mode``)."""

    ANSWERS = {
        "401": (401, b"Unauthorized"),
        "403": (403, b"Forbidden"),
        "500": (500, b"boom"),
        "malformed": (200, b'{"status": "success", "data": '),
        "slow": (200, b'{"status":"success","data":{"resultType":"matrix","result":[]}}'),
    }

    def __init__(self) -> None:
        self.mode = "401"
        self.hits = 0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                state.hits += 1
                if state.mode == "slow":
                    time.sleep(1.0)
                code, body = state.ANSWERS[state.mode]
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def bad_prometheus() -> Iterator[tuple[BadPrometheus, str]]:
    """(the stand-in's state, its base URL) until the block ends."""
    state = BadPrometheus()
    with serve_http(state.handler()) as url:
        yield state, url
