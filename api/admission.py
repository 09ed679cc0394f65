"""Backpressure for the model-running routes: a few answers computed at once, a short queue, and a
fast 503 beyond it, so a crowd gets told to come back instead of everyone waiting longer and longer."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

POLL_S = 0.1  # how often a queued request looks whether its client is still there


class Overloaded(Exception):
    """No slot now and none soon: `reason` is "queue_full" or "queue_timeout"."""

    def __init__(self, reason: str, retry_after_s: float) -> None:
        super().__init__("the server is busy; try again shortly")
        self.reason, self.retry_after_s = reason, retry_after_s


class ClientGone(Exception):
    """The client left while its request waited in the queue."""


class Admission:
    """`max_inflight` slots and a FIFO of at most `max_queue` waiters, each waiting up to `timeout_s`.
    Lives on one event loop; a released slot passes straight to the longest waiter."""

    def __init__(self, max_inflight: int, max_queue: int, timeout_s: float) -> None:
        self.max_inflight, self.max_queue, self.timeout_s = max_inflight, max_queue, timeout_s
        self.inflight = 0
        self._waiters: deque[asyncio.Future] = deque()
        self._service_s = 0.5  # running mean of how long a slot is held: what Retry-After is made of

    @property
    def queued(self) -> int:
        return len(self._waiters)

    def retry_after_s(self) -> float:
        """About when a slot frees up for a newcomer: the queue ahead of it, served `max_inflight` at a time."""
        return math.ceil((self.queued + 1) / self.max_inflight) * self._service_s

    async def acquire(self, gone: Callable[[], Awaitable[bool]] | None = None) -> float:
        """Wait for a slot; returns when it was granted, for `release`. Overloaded when the queue is full or the wait
        runs out, ClientGone when `gone()` says the client left meanwhile."""
        if self.inflight < self.max_inflight and not self._waiters:
            self.inflight += 1
            return time.monotonic()
        if len(self._waiters) >= self.max_queue:
            raise Overloaded("queue_full", self.retry_after_s())
        loop = asyncio.get_running_loop()
        turn = loop.create_future()
        self._waiters.append(turn)
        deadline = loop.time() + self.timeout_s
        try:
            while not turn.done():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise Overloaded("queue_timeout", self.retry_after_s())
                await asyncio.wait({turn}, timeout=min(POLL_S, remaining))
                if not turn.done() and gone is not None and await gone():
                    raise ClientGone()
        except BaseException:
            if turn.done() and not turn.cancelled():
                self._pass_on()  # a slot was handed over just as we gave up: hand it on
            else:
                turn.cancel()
                self._waiters.remove(turn)
            raise
        return time.monotonic()

    def release(self, granted: float) -> None:
        self._service_s = 0.8 * self._service_s + 0.2 * (time.monotonic() - granted)
        self._pass_on()

    def _pass_on(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot stays in flight, now for this waiter
                return
        self.inflight -= 1
