"""A real HTTP server for tests that TestClient can't do (a browser, a client that hangs up mid-stream)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from qa.config import Settings


@dataclass(frozen=True)
class LiveServer:
    url: str  # e.g. http://127.0.0.1:40123
    app: FastAPI


@contextmanager
def serve(app: FastAPI, **options) -> Iterator[LiveServer]:
    """Run `app` under uvicorn in a thread on a free loopback port until the block ends; `options` go to
    uvicorn.Config (e.g. `qa serve`'s `serve_options`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None leaves logging alone, so caplog still sees the app's records
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning", lifespan="on", **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # the lifespan warms the pipeline up
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def api_settings(settings) -> Settings:
    """The session's settings with the per-client limits off: the suite sends hundreds of requests from one
    address in seconds (tests/api/test_hardening.py turns them on where it tests them)."""
    return settings.model_copy(update={"rate_limit_ask": None, "rate_limit_feedback": None, "feedback_quota": 0})


@pytest.fixture(scope="session")
def client(api_settings, pipeline):
    """The app over the bundled report, in process (overrides the root conftest's: no per-client limits)."""
    with TestClient(create_app(api_settings, pipeline)) as c:
        yield c


@pytest.fixture(scope="session")
def live(api_settings, pipeline) -> Iterator[LiveServer]:
    """The app over the bundled report, served over real HTTP."""
    with serve(create_app(api_settings, pipeline)) as server:
        yield server


@pytest.fixture(scope="session")
def serve_app():
    """`serve` itself, for tests that bring their own app (another corpus, other settings)."""
    return serve
