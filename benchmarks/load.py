"""Concurrent HTTP clients on loopback: N keep-alive connections, a fixed number of requests.

The clients run in the harness's process (asyncio), never in the server's: what is timed is a
whole request as a browser or a script sees it, to its last byte, queueing in the server
included. They speak HTTP/1.1 themselves over asyncio streams (a request line, headers, then
a body by ``Content-Length`` or chunks) rather than through httpx, which spent 3-5 ms of CPU
per request: on a 2-core machine the clients compete with the server for the same cores, so
they must cost as little as they can. Bodies are read as sent (gzip stays compressed).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RouteResult:
    """Latencies (ms) and failures of one route's requests."""

    route: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    bytes: int = 0
    client_cpu_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        done = len(self.latencies_ms)
        return {
            "route": self.route, "requests": done, "errors": len(self.errors),
            "error_samples": sorted(set(self.errors))[:3],
            "p50_ms": percentile(self.latencies_ms, 50),
            "p95_ms": percentile(self.latencies_ms, 95),
            "p99_ms": percentile(self.latencies_ms, 99),
            "max_ms": round(max(self.latencies_ms), 1) if done else None,
            "req_per_s": round(done / self.wall_s, 1) if self.wall_s else None,
            "bytes_per_response": self.bytes // done if done else 0,
            "client_cpu_ms": round(self.client_cpu_s * 1000 / done, 2) if done else None,
        }


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (the value ``pct`` % of requests did not exceed)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil, at least the first
    return round(ordered[int(rank) - 1], 1)


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened after the server closes it."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = "".join(f"{k}: {v}\r\n" for k, v in
                            {"Host": f"{self.host}:{self.port}", "Accept-Encoding": "gzip",
                             **headers}.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(f"GET {path} HTTP/1.1\r\n{self.head}\r\n".encode("latin-1"))
        await writer.drain()
        status, headers = _head(await reader.readuntil(b"\r\n\r\n"))
        body = await _body(reader, headers)
        if headers.get("connection") == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


def _head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    return int(lines[0].split(" ", 2)[1]), headers


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding") == "chunked":
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16):
            chunks.append((await reader.readexactly(size + 2))[:-2])
        await reader.readuntil(b"\r\n")  # the empty trailer
        return b"".join(chunks)
    return await reader.readexactly(int(headers.get("content-length", "0")))


async def _one(connection: Connection, path: str, result: RouteResult) -> None:
    began = time.perf_counter()
    try:
        status, body = await connection.get(path)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
            ValueError) as exc:
        await connection.close()
        result.latencies_ms.append((time.perf_counter() - began) * 1000)
        result.errors.append(f"{type(exc).__name__}: {exc}")
        return
    result.latencies_ms.append((time.perf_counter() - began) * 1000)
    result.bytes += len(body)
    if status != 200:
        result.errors.append(f"{status} {body[:120]!r}")


async def _drive(base: str, headers: dict[str, str], path: str, requests: int,
                 clients: int) -> RouteResult:
    result = RouteResult(path)
    remaining = iter(range(requests))
    connections = [Connection(base, headers) for _ in range(clients)]

    async def worker(connection: Connection) -> None:
        for _ in remaining:  # one shared iterator: the clients share the requests
            await _one(connection, path, result)

    try:
        await asyncio.gather(*(_one(c, path, RouteResult(path)) for c in connections))
        began, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(c) for c in connections))
        result.wall_s = time.perf_counter() - began
        result.client_cpu_s = time.process_time() - cpu
    finally:
        for connection in connections:
            await connection.close()
    return result


def hammer(base: str, headers: dict[str, str], path: str, *, requests: int = 400,
           clients: int = 20) -> RouteResult:
    """``requests`` GETs of ``path`` from ``clients`` concurrent keep-alive connections, after
    one unmeasured request per connection (connections open, the server's caches warm)."""
    return asyncio.run(_drive(base, headers, path, requests, clients))
