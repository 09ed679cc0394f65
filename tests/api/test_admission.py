"""The admission queue and the rate limiter on their own: the rules the 503s and 429s come from."""

from __future__ import annotations

import asyncio

import pytest

from api.admission import Admission, ClientGone, Overloaded
from api.limits import RateLimiter


def run(coro):
    return asyncio.run(coro)


def test_slots_then_a_bounded_queue_then_503_at_once():
    async def scenario():
        a = Admission(max_inflight=2, max_queue=1, timeout_s=5)
        first, second = await a.acquire(), await a.acquire()
        waiter = asyncio.create_task(a.acquire())
        await asyncio.sleep(0)
        assert (a.inflight, a.queued) == (2, 1)
        with pytest.raises(Overloaded) as full:
            await a.acquire()
        assert full.value.reason == "queue_full" and full.value.retry_after_s > 0
        a.release(first)  # the slot passes straight to the waiter
        third = await waiter
        assert (a.inflight, a.queued) == (2, 0)
        for granted in (second, third):
            a.release(granted)
        assert a.inflight == 0

    run(scenario())


def test_a_wait_that_runs_out_is_a_503_and_frees_its_place():
    async def scenario():
        a = Admission(max_inflight=1, max_queue=2, timeout_s=0.15)
        held = await a.acquire()
        with pytest.raises(Overloaded) as late:
            await a.acquire()
        assert late.value.reason == "queue_timeout" and a.queued == 0
        a.release(held)
        assert a.inflight == 0

    run(scenario())


def test_a_client_that_leaves_while_queued_gives_up_its_place():
    async def scenario():
        a = Admission(max_inflight=1, max_queue=2, timeout_s=5)
        held = await a.acquire()

        async def gone() -> bool:
            return True

        with pytest.raises(ClientGone):
            await a.acquire(gone)
        assert a.queued == 0
        a.release(held)
        assert a.inflight == 0

    run(scenario())


def test_a_waiter_cancelled_as_the_slot_reaches_it_hands_the_slot_on():
    async def scenario():
        a = Admission(max_inflight=1, max_queue=2, timeout_s=5)
        held = await a.acquire()
        first = asyncio.create_task(a.acquire())
        second = asyncio.create_task(a.acquire())
        await asyncio.sleep(0)
        a.release(held)  # the slot is handed to `first`...
        first.cancel()  # ...which is cancelled before it wakes up: `second` must get it
        granted = await second
        assert (a.inflight, a.queued) == (1, 0)
        a.release(granted)
        assert a.inflight == 0

    run(scenario())


def test_the_token_bucket_allows_a_burst_then_paces():
    limiter = RateLimiter("3/minute")
    assert [limiter.wait("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert 19 < limiter.wait("a") <= 20  # one token comes back every 20 s
    assert limiter.wait("b") == 0.0  # another client has its own bucket
    assert RateLimiter(None).wait("a") == 0.0  # off


def test_the_limiter_forgets_the_least_recent_clients_past_its_bound():
    limiter = RateLimiter("1/hour", max_clients=2)
    for client in ("a", "b", "c"):
        limiter.wait(client)
    assert limiter.wait("c") > 0 and limiter.wait("a") == 0.0  # "a" was forgotten, so it starts afresh
