"""Concurrent HTTP clients on loopback: N keep-alive clients, a fixed number of requests.

The clients run in the harness's process (asyncio, httpx), never in the server's: what is
timed is a whole request as a browser or a script sees it, queueing in the server included.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


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


async def _one(client: httpx.AsyncClient, path: str, result: RouteResult) -> None:
    """One GET, timed to its last byte. The body is read as sent (gzip stays compressed):
    the clients share the machine with the server, so they do as little as they can."""
    began = time.perf_counter()
    try:
        async with client.stream("GET", path) as response:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
    except httpx.HTTPError as exc:
        result.latencies_ms.append((time.perf_counter() - began) * 1000)
        result.errors.append(f"{type(exc).__name__}: {exc}")
        return
    result.latencies_ms.append((time.perf_counter() - began) * 1000)
    result.bytes += len(body)
    if response.status_code != 200:
        result.errors.append(f"{response.status_code} {body[:120]!r}")


async def _drive(base: str, headers: dict[str, str], path: str, requests: int,
                 clients: int) -> RouteResult:
    result = RouteResult(path)
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=120) as client:
        async def worker() -> None:
            for _ in remaining:  # one shared iterator: the clients share the requests
                await _one(client, path, result)

        await asyncio.gather(*(_one(client, path, RouteResult(path)) for _ in range(clients)))
        began, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(clients)))
        result.wall_s = time.perf_counter() - began
        result.client_cpu_s = time.process_time() - cpu
    return result


def hammer(base: str, headers: dict[str, str], path: str, *, requests: int = 400,
           clients: int = 20) -> RouteResult:
    """``requests`` GETs of ``path`` from ``clients`` concurrent keep-alive connections, after
    one unmeasured request per connection (connections open, the server's caches warm)."""
    return asyncio.run(_drive(base, headers, path, requests, clients))
