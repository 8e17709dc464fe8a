"""Request bodies are bounded: past ``max_bytes`` a request gets a 413 with the canonical error
body and is read no further, whether the client declared a Content-Length or streams chunks.

A body within the limit is read here in full and handed on unchanged (the API's bodies are
small JSON documents; the default limit is 64 KiB).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finops.api.errors import error_response


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._declared_problem(scope)
        body = None if problem else await self._read(receive)
        if problem or body is None:
            status, text = problem or (413, self._too_large())
            await error_response(status, text)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _too_large(self) -> str:
        return (f"request body larger than {self.max_bytes} bytes "
                "(FINOPS_API__MAX_BODY_BYTES)")

    def _declared_problem(self, scope: Scope) -> tuple[int, str] | None:
        """A Content-Length that is no number (400) or over the limit (413)."""
        for name, value in scope.get("headers", []):
            if name != b"content-length":
                continue
            if not value.isdigit():
                return 400, "Content-Length is not a number"
            if int(value) > self.max_bytes:
                return 413, self._too_large()
        return None

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the app will see the disconnect too
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read already, then whatever the client sends next
    (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
