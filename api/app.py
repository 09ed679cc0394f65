"""FastAPI app factory: assembles settings, the pipeline, middleware, error handlers and the routers."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.admission import Admission
from api.errors import install_error_handlers
from api.limits import BodyLimitMiddleware, RateLimiter
from api.metrics import Metrics, MetricsMiddleware
from api.routes import ask, chat, documents, feedback, health, metrics, passages, search, widget
from api.security import ApiKeyMiddleware, SecurityHeadersMiddleware
from qa import __version__
from qa.config import Settings
from qa.feedback import FeedbackStore, feedback_path
from qa.pipeline import Pipeline


def create_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> FastAPI:
    settings = settings or (pipeline.settings if pipeline else Settings())
    pipeline = pipeline or Pipeline(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pipeline.warm_up()
        yield

    app = FastAPI(
        title="Cited-answer QA",
        version=__version__,
        description="Answers questions about documents with verbatim spans and the document, page and paragraph "
                    "they come from.",
        lifespan=lifespan,
    )
    app.state.pipeline = pipeline
    app.state.feedback = FeedbackStore(feedback_path(pipeline.settings), settings.feedback_quota)
    # the edge (docs/DEPLOYMENT.md): admission and rate limits for the routes, keys and limits as middleware
    app.state.admission = Admission(settings.max_inflight, settings.max_queue, settings.queue_timeout_s)
    app.state.metrics = edge = Metrics(app.state.admission)
    app.state.ask_limit = RateLimiter(settings.rate_limit_ask)
    app.state.feedback_limit = RateLimiter(settings.rate_limit_feedback)
    app.state.admin_keys = settings.admin_keys
    # the middleware added last runs first: headers, metrics, CORS (preflights), body limits, keys
    keys = settings.api_keys and settings.api_keys + settings.admin_keys  # no API keys: no route needs one
    app.add_middleware(ApiKeyMiddleware, digests=keys, on_reject=edge.reject)
    upload = (int(settings.max_document_mb * 1024 * 1024) + 64 * 1024, settings.upload_timeout_s)  # + the form
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, timeout_s=settings.body_timeout_s,
                       on_reject=edge.reject, uploads={"/v1/documents": upload})
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization"],
        expose_headers=["Retry-After"],
    )
    app.add_middleware(MetricsMiddleware, metrics=edge)
    app.add_middleware(SecurityHeadersMiddleware)
    install_error_handlers(app)
    for module in (health, search, ask, passages, documents, feedback, chat, widget, metrics):
        app.include_router(module.router)
    return app
