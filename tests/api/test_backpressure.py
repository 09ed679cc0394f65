"""Backpressure over real HTTP: a crowd gets answers or a fast 503 with Retry-After (never a long queue),
and streams whose clients leave stop costing the server. Real pipeline, live uvicorn on loopback only."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from api.app import create_app
from qa.pipeline import Pipeline

DEV_SET = Path(__file__).resolve().parents[2] / "data" / "eval" / "un-report-dev.jsonl"
QUESTIONS = [json.loads(line)["question"] for line in DEV_SET.read_text(encoding="utf-8").splitlines()]


@dataclass(frozen=True)
class Reply:
    status: int
    seconds: float
    retry_after: str | None


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


async def _client(url: str, until: float, replies: list[Reply], seed: int) -> None:
    """Asks different questions back to back; after a 503 waits what Retry-After says (at most 2 s)."""
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        while time.monotonic() < until:
            t0 = time.monotonic()
            r = await http.post("/v1/ask", json={"question": rng.choice(QUESTIONS)})
            replies.append(Reply(r.status_code, time.monotonic() - t0, r.headers.get("retry-after")))
            if r.status_code == 503:
                await asyncio.sleep(min(2.0, float(r.headers.get("retry-after") or 1)))


def crowd(url: str, clients: int, seconds: float) -> list[Reply]:
    replies: list[Reply] = []

    async def run() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*(_client(url, until, replies, seed) for seed in range(clients)))

    asyncio.run(run())
    return replies


@pytest.fixture(scope="module")
def uncached(pipeline, api_settings) -> Pipeline:
    """The loaded models without the answer cache: every question costs a full retrieve and read."""
    p = Pipeline(api_settings.model_copy(update={"answer_cache": 0}))
    p.embedder, p.reader = pipeline.embedder, pipeline.reader
    return p.load()


def test_a_crowd_gets_answers_or_a_fast_503_and_admitted_latency_stays_bounded(uncached, serve_app):
    with serve_app(create_app(uncached.settings, uncached)) as server:
        single = crowd(server.url, clients=1, seconds=6)
        many = crowd(server.url, clients=20, seconds=15)
    alone = [r.seconds for r in single if r.status == 200]
    admitted = [r.seconds for r in many if r.status == 200]
    refused = [r for r in many if r.status == 503]
    print(f"\nsingle client: {len(alone)} answers, p50 {statistics.median(alone):.3f} s, p95 {p95(alone):.3f} s"
          f"\n20 clients, 15 s: {len(admitted)} answered, p50 {statistics.median(admitted):.3f} s, "
          f"p95 {p95(admitted):.3f} s; {len(refused)} refused (503), "
          f"p50 {statistics.median([r.seconds for r in refused] or [0]):.3f} s, "
          f"max {max([r.seconds for r in refused] or [0]):.3f} s")
    assert {r.status for r in many} <= {200, 503}
    assert all(r.retry_after and int(r.retry_after) >= 1 for r in refused)
    assert refused, "20 clients on 2 slots and a short queue must be told to back off"
    assert p95(admitted) <= 3 * p95(alone)
    # a full queue answers at once; a queued request gives up after QA_QUEUE_TIMEOUT_S
    assert max(r.seconds for r in refused) <= uncached.settings.queue_timeout_s + 0.5


def test_streams_whose_clients_leave_after_the_passages_cost_at_most_one_more_stage(uncached, serve_app, caplog):
    caplog.set_level(logging.INFO, logger="api.routes.ask")
    clients = 12
    settings = uncached.settings.model_copy(update={"max_queue": clients, "queue_timeout_s": 30})
    app = create_app(settings, uncached)
    with serve_app(app) as server:

        async def leave_after_first_event(question: str) -> str:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                async with http.stream("POST", "/v1/ask/stream", json={"question": question}) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("event: "):
                            return line.removeprefix("event: ")  # leaving the blocks hangs up
            return "none"

        async def run() -> list[str]:
            return await asyncio.gather(*(leave_after_first_event(q) for q in QUESTIONS[:clients]))

        firsts = asyncio.run(run())
        left = time.monotonic()
        admission = app.state.admission
        while (admission.inflight or admission.queued) and time.monotonic() - left < 30:
            time.sleep(0.02)
        idle_after = time.monotonic() - left
        with httpx.Client(base_url=server.url, timeout=60) as http:  # the server is none the worse
            assert http.post("/v1/ask", json={"question": QUESTIONS[0]}).status_code == 200

        def stopped() -> list[str]:
            return [r.getMessage() for r in caplog.records if "went away" in r.getMessage()]

        # a stream cancelled mid-await is finalised (and logs) a moment after its slot is free, while the server runs
        while len(stopped()) < clients and time.monotonic() - left < 10:
            time.sleep(0.05)
    assert firsts == ["passages"] * clients
    stopped = stopped()
    reads = sum("at the read stage" in m for m in stopped)
    print(f"\n{clients} streams left after the passages: {clients - reads} stopped before reading, "
          f"{reads} had started the read; idle {idle_after:.2f} s after the last one left")
    assert len(stopped) == clients  # every one ended without sending an answer
    # each stream ran at most the read it was in when its client left: once the last client is gone only
    # the reads in flight (at most QA_MAX_INFLIGHT, ~0.2-0.4 s each) remain, not a pipeline per client
    assert idle_after < 3.0


def test_streams_abandoned_before_the_passages_never_start_the_read(uncached, serve_app, caplog):
    """Clients that send the question and hang up at once: the ones holding a slot stop after retrieval,
    the queued ones give their place up without any work."""
    caplog.set_level(logging.INFO, logger="api.routes.ask")
    clients = 12
    settings = uncached.settings.model_copy(update={"max_queue": clients, "queue_timeout_s": 30})
    app = create_app(settings, uncached)
    with serve_app(app) as server:
        parts = urlsplit(server.url)
        for question in QUESTIONS[20:20 + clients]:
            body = json.dumps({"question": question}).encode()
            with socket.create_connection((parts.hostname, parts.port)) as sock:
                sock.sendall(b"POST /v1/ask/stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        left = time.monotonic()
        admission = app.state.admission
        while (admission.inflight or admission.queued) and time.monotonic() - left < 30:
            time.sleep(0.02)
        idle_after = time.monotonic() - left
        gave_up = app.state.metrics.rejections.labels("client_gone")._value.get()
    stopped = [r.getMessage() for r in caplog.records if "went away" in r.getMessage()]
    print(f"\n{clients} streams abandoned at once: {len(stopped)} stopped at the retrieve stage, {gave_up:.0f} left "
          f"the queue unserved, 0 reads; idle {idle_after:.2f} s after the last one left")
    assert not any("at the read stage" in m for m in stopped)
    assert len(stopped) + gave_up == clients
    assert idle_after < 2.0


def test_a_stream_holds_its_slot_until_its_last_event(uncached, serve_app):
    app = create_app(uncached.settings, uncached)
    with serve_app(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        with http.stream("POST", "/v1/ask/stream", json={"question": QUESTIONS[1]}) as response:
            lines = response.iter_lines()
            assert next(line for line in lines if line.startswith("event: ")) == "event: passages"
            assert app.state.admission.inflight == 1  # the read is still to come
            assert [line for line in lines if line.startswith("event: ")] == ["event: answer", "event: done"]
        deadline = time.monotonic() + 5
        while app.state.admission.inflight and time.monotonic() < deadline:
            time.sleep(0.01)
        assert app.state.admission.inflight == 0
