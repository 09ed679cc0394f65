"""FastAPI app factory: assembles settings, the pipeline, middleware, error handlers and the routers."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.errors import install_error_handlers
from api.routes import ask, feedback, health, passages, search, widget
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
        version="0.1.0",
        description="Answers questions about a document with verbatim spans and the paragraph they come from.",
        lifespan=lifespan,
    )
    app.state.pipeline = pipeline
    app.state.feedback = FeedbackStore(feedback_path(pipeline.settings))
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
    )
    install_error_handlers(app)
    for module in (health, search, ask, passages, feedback, widget):
        app.include_router(module.router)
    return app
