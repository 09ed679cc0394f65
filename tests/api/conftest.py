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

from api.app import create_app


@dataclass(frozen=True)
class LiveServer:
    url: str  # e.g. http://127.0.0.1:40123
    app: FastAPI


@contextmanager
def serve(app: FastAPI) -> Iterator[LiveServer]:
    """Run `app` under uvicorn in a thread on a free loopback port until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # log_config=None leaves logging alone, so caplog still sees the app's records
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning", lifespan="on"))
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
def live(settings, pipeline) -> Iterator[LiveServer]:
    """The app over the bundled report, served over real HTTP."""
    with serve(create_app(settings, pipeline)) as server:
        yield server


@pytest.fixture(scope="session")
def serve_app():
    """`serve` itself, for tests that bring their own app (another corpus, other settings)."""
    return serve
