"""FastAPI app factory: a thin layer over one `Pipeline`."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.feedback import router as feedback_router
from api.schemas import AskResponse, ErrorOut, Health, PassageOut, QuestionRequest, SearchResponse
from api.widget import router as widget_router
from qa.config import Settings
from qa.pipeline import Pipeline, QuestionError
from qa.serialize import ask_response, passage_dict, search_response

log = logging.getLogger(__name__)


def _readable(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(x) for x in err.get("loc", []) if x != "body") or "body"
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        parts.append(f"{field}: {msg}")
    return "; ".join(parts)


def get_pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]


def create_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> FastAPI:
    settings = settings or Settings()
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
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
    )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        # only location, message and type: `input` may be a 100 kB question, `ctx` holds exceptions
        detail = [{k: err.get(k) for k in ("loc", "msg", "type")} for err in exc.errors()]
        return JSONResponse(status_code=422, content={"error": _readable(exc), "detail": detail})

    @app.exception_handler(QuestionError)
    async def question_error(request: Request, exc: QuestionError):
        return JSONResponse(status_code=422, content={"error": str(exc)})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(status_code=500, content={"error": "internal error; the server log has the details"})

    errors = {422: {"model": ErrorOut}}

    @app.get("/healthz", response_model=Health, responses={503: {"model": ErrorOut}})
    def healthz(p: PipelineDep):
        if p.index is None or p.reader.model is None:
            return JSONResponse(status_code=503, content={"error": "loading"})
        return {
            "status": "ok",
            "passages": len(p.index.passages),
            "model": p.embedder.model_name,
            "reader": "span reader, held-out DRCD F1 {}".format((p.reader.info.get("validation") or {}).get("f1")),
            "index_kind": p.index.vectors.kind,
            "corpus": p.index.manifest.get("corpus", ""),
        }

    @app.post("/v1/search", response_model=SearchResponse, responses=errors)
    def search(body: QuestionRequest, p: PipelineDep):
        return search_response(body.question, p.search(body.question, body.top_k))

    @app.post("/v1/ask", response_model=AskResponse, responses=errors)
    def ask(body: QuestionRequest, p: PipelineDep):
        return ask_response(p.ask(body.question, body.top_k))

    @app.get("/v1/passages/{passage_id}", response_model=PassageOut, responses={404: {"model": ErrorOut}})
    def passage(passage_id: str, p: PipelineDep):
        found = p.passage(passage_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no passage with id {passage_id!r}")
        return passage_dict(found)

    @app.exception_handler(StarletteHTTPException)  # also unknown routes and wrong methods
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail)})

    app.include_router(widget_router)
    app.include_router(feedback_router)
    return app
