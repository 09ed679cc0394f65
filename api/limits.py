"""Per-request resource limits at the edge: the body's size and pace, and each client's request rate."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

import anyio
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from qa.config import parse_rate

CLOSE = {"Connection": "close"}  # the unread rest of the body must not be taken for the next request


class BodyTooLarge(HTTPException):
    """FastAPI's HTTPException, so FastAPI's body reader passes it on instead of making it a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes", headers=CLOSE)


class BodyTooSlow(HTTPException):
    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"the request body did not arrive within {seconds:g} s", headers=CLOSE)


class BodyLimitMiddleware:
    """Pure ASGI, outside anything that reads the body: a declared Content-Length over `max_bytes` is
    refused before a byte of the body is read, a chunked body as soon as it passes the limit, and a body
    still arriving after `timeout_s` (a slow sender holding a request open) with a 408."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float,
                 on_reject: Callable[[str], None] = lambda reason: None,
                 uploads: dict[str, tuple[int, float]] | None = None) -> None:
        self.app, self.max_bytes, self.timeout_s, self.on_reject = app, max_bytes, timeout_s, on_reject
        self.uploads = uploads or {}  # path -> (bytes, seconds) for the routes that take files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, timeout_s = self.uploads.get(scope["path"], (self.max_bytes, self.timeout_s))
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            self.on_reject("body_too_large")
            await error_response(413, BodyTooLarge(max_bytes).detail, CLOSE, scope["path"])(scope, receive, send)
            return
        received, done, started = 0, False, False
        deadline = time.monotonic() + timeout_s

        async def limited_receive() -> Message:
            nonlocal received, done
            if done:  # after the body only a disconnect can come: no deadline for that
                return await receive()
            try:
                with anyio.fail_after(max(0.0, deadline - time.monotonic())):
                    message = await receive()
            except TimeoutError:
                self.on_reject("body_too_slow")
                raise BodyTooSlow(timeout_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                done = not message.get("more_body", False)
                if received > max_bytes:
                    self.on_reject("body_too_large")
                    raise BodyTooLarge(max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except (BodyTooLarge, BodyTooSlow) as exc:  # raised where no exception handler was in reach
            if started:
                raise
            await error_response(exc.status_code, exc.detail, CLOSE, scope["path"])(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None  # h11 refuses malformed ones itself
    return None


class RateLimiter:
    """A token bucket per client: `rate` ("60/minute") requests per period, in bursts of up to that many.
    Used from the event loop only; the least recently seen clients are forgotten past `max_clients`."""

    def __init__(self, rate: str | None, max_clients: int = 100_000) -> None:
        self.capacity, self.period = parse_rate(rate) if rate else (0, 1.0)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, client: str) -> float:
        """0 when `client` may go now (a token is taken), else the seconds until it may."""
        if not self.capacity:
            return 0.0
        now = time.monotonic()
        tokens, stamp = self._buckets.pop(client, (float(self.capacity), now))
        tokens = min(self.capacity, tokens + (now - stamp) * self.capacity / self.period)
        wait = 0.0 if tokens >= 1 else (1 - tokens) * self.period / self.capacity
        self._buckets[client] = (tokens - 1 if not wait else tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def retry_after(seconds: float) -> dict[str, str]:
    """The Retry-After header for a wait: whole seconds, at least 1."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
