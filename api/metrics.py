"""Prometheus metrics for one app: what was asked and answered, how fast, how busy, and what the edge
refused. A registry per app, so several apps in one process (tests) keep their own counts."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.admission import Admission

BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self, admission: Admission) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("qa_http_requests", "HTTP requests answered, by route template, method and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("qa_http_request_duration_seconds", "request to last byte of the response",
                                 ["route"], buckets=BUCKETS, registry=r)
        self.rejections = Counter("qa_rejections", "requests the edge refused, by reason", ["reason"], registry=r)
        Gauge("qa_answers_in_flight", "answers being computed now", registry=r).set_function(
            lambda: admission.inflight)
        Gauge("qa_answers_queued", "requests waiting for a slot", registry=r).set_function(lambda: admission.queued)

    def reject(self, reason: str) -> None:
        self.rejections.labels(reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every request by its route template (never the raw path: ids and scanners'
    paths would make a label per request); requests no route matched, or refused before routing
    (401, a 413 by Content-Length), count as "unmatched"."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)
