"""Whole responses of the API's reads and the dashboards, kept per snapshot generation.

A published snapshot never changes, so a ``GET`` of ``/api/…`` or ``/dashboards/…`` answers
the same bytes for the same caller scope and URL until the next publish: a finance team opening
the overview on Monday morning costs one computation, not one per person. The key is
(generation, the caller's role, path, query): the role (``finance``, ``platform``,
``team:<name>``) decides everything a principal may see, so a team token is only ever answered
from responses computed for that same team.

Only a ``200`` of a route that leased the generation the key names is kept (errors and
redirects never are, nor a response that sets a cookie). The caller is identified exactly as
the routes identify it (``Authenticator.principal``); a request that does not authenticate goes
to the routes, which answer it (401, the sign-in page). Concurrent misses of one key wait for
the first (one computation, not twenty). Entries of older generations are dropped when a new
generation's first response is kept; the whole cache is bounded by ``FINOPS_API__CACHE_MB``
(least recently used first out; 0 turns it off). A body over 1 KB is also kept gzipped
(compressed once, on a worker thread) and sent so to clients that accept it.
"""

from __future__ import annotations

import asyncio
import gzip
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request, Response
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from finops.api.metrics import Metrics
from models.errors import FinOpsError

Key = tuple[int, str, str, str]
Handler = Callable[[Request], Awaitable[Response]]
PREFIXES = ("/api/", "/dashboards/")
GZIP_FROM = 1024  # bytes: smaller bodies are sent as they are


@dataclass(frozen=True)
class Cached:
    """A kept response: its body, headers and, for a body worth it, the body gzipped once
    (a month by namespace and day at L: 7.7 MB of JSON, 0.5 MB gzipped)."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    gzipped: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")

    def response(self, accepts_gzip: bool) -> Response:
        body, headers = self.body, list(self.headers)
        if self.gzipped is not None:
            headers.append(("vary", "Accept-Encoding"))
        if accepts_gzip and self.gzipped is not None:
            body = self.gzipped
            headers = [(k, str(len(body)) if k == "content-length" else v) for k, v in headers]
            headers.append(("content-encoding", "gzip"))
        response = Response(body)
        response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        return response


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


class ResponseCache:
    """An LRU of responses bounded in bytes; used from the event loop only."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[Key, Cached] = OrderedDict()
        self._pending: dict[Key, asyncio.Event] = {}
        self._newest = 0

    def get(self, key: Key) -> Cached | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: Key, cached: Cached) -> None:
        if cached.size > self.max_bytes // 4:
            return  # one response may not push out most of the others
        if key[0] > self._newest:
            self._newest = key[0]
            self._drop(lambda k: k[0] < key[0])
        self._entries[key] = cached
        self.size += cached.size
        while self.size > self.max_bytes:
            _, old = self._entries.popitem(last=False)
            self.size -= old.size

    def _drop(self, stale: Callable[[Key], bool]) -> None:
        for key in [k for k in self._entries if stale(k)]:
            self.size -= self._entries.pop(key).size

    async def wait_for(self, key: Key) -> None:
        """Wait while another request computes ``key`` (returns at once when none does)."""
        pending = self._pending.get(key)
        if pending is not None:
            await pending.wait()

    def computing(self, key: Key) -> asyncio.Event:
        event = self._pending[key] = asyncio.Event()
        return event

    def done(self, key: Key, event: asyncio.Event) -> None:
        if self._pending.get(key) is event:
            del self._pending[key]
        event.set()


def cache_key(request: Request, generation: int | None) -> Key | None:
    """The key of a cacheable request, None when the request is not one (or the caller does
    not authenticate: the routes answer that)."""
    if request.method != "GET" or not request.url.path.startswith(PREFIXES) \
            or generation is None:
        return None
    ctx = request.app.state.ctx
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    try:
        principal = ctx.auth.principal(request, token if scheme.lower() == "bearer" else None)
    except FinOpsError:
        return None
    return (generation, principal.role, request.url.path, request.url.query)


def middleware(cache: ResponseCache, metrics: Metrics) -> Callable[[Request, Handler],
                                                                   Awaitable[Response]]:
    async def cached(request: Request, call_next: Handler) -> Response:
        ctx = request.app.state.ctx
        key = cache_key(request, ctx.snapshots.current_number()) if cache.max_bytes else None
        if key is None:
            return await call_next(request)
        await cache.wait_for(key)
        hit = cache.get(key)
        metrics.cache_outcome("hit" if hit else "miss")
        if hit is not None:
            return hit.response(accepts_gzip(request))
        event = cache.computing(key)
        try:
            return await _compute(request, call_next, cache, key)
        finally:
            cache.done(key, event)

    return cached


async def _compute(request: Request, call_next: Handler, cache: ResponseCache,
                   key: Key) -> Response:
    response = await call_next(request)
    if response.status_code != 200 or "set-cookie" in response.headers \
            or getattr(request.state, "generation", None) != key[0]:
        return response
    body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers)
    packed = await run_in_threadpool(gzip.compress, body, 6) if len(body) >= GZIP_FROM else None
    cached = Cached(body, headers, packed)
    cache.put(key, cached)
    return cached.response(accepts_gzip(request))
