"""The embeddable chat widget: its script, a demo page that carries it, and the streaming ask it uses."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.schemas import ErrorOut, QuestionRequest
from qa.pipeline import Pipeline
from qa.serialize import answer_dict, hit_dict

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # proxies must not hold events back
STREAM_DOC = (
    "Server-sent events, in this order: `passages` ({question, passages, timings_ms}) right after retrieval, "
    "`answer` ({answers, no_answer}) after reading, then `done` ({timings_ms}); `error` ({error}) replaces "
    "the rest if the server fails midway. Together they carry what `POST /v1/ask` returns."
)

router = APIRouter()


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


@router.get("/", include_in_schema=False)
def demo_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


@router.get("/widget.js", include_in_schema=False)
def widget_script() -> FileResponse:
    # short cache: embedding pages pick up a new widget within minutes of a deploy
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8", headers=headers)


async def _ask_events(request: Request, pipeline: Pipeline, question: str, top_k: int) -> AsyncIterator[str]:
    """Retrieve, send the passages, read, send the answers; a client that has gone gets no more work done."""
    stage, finished = "retrieve", False
    try:
        t0 = time.perf_counter()
        hits = await run_in_threadpool(pipeline.search, question, top_k)
        t1 = time.perf_counter()
        passages = [hit_dict(h) for h in hits]
        yield _event("passages", {"question": question, "passages": passages, "timings_ms": {"retrieve": _ms(t1 - t0)}})
        stage = "read"
        if await request.is_disconnected():
            return
        answers, no_answer = await run_in_threadpool(pipeline.read, question, hits)
        t2 = time.perf_counter()
        if await request.is_disconnected():  # the reader can't be interrupted; its answer can go unsent
            return
        yield _event("answer", {"answers": [answer_dict(a) for a in answers], "no_answer": no_answer})
        finished = True
        yield _event("done", {"timings_ms": {"retrieve": _ms(t1 - t0), "read": _ms(t2 - t1), "total": _ms(t2 - t0)}})
    except Exception:
        finished = True
        log.exception("ask/stream failed during %s", stage)
        yield _event("error", {"error": "internal error; the server log has the details"})
    finally:
        if not finished:
            log.info("ask/stream: the client went away at the %s stage; stopped without answering", stage)


@router.post(
    "/v1/ask/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": STREAM_DOC}, 422: {"model": ErrorOut}},
)
async def ask_stream(body: QuestionRequest, request: Request) -> StreamingResponse:
    """Like /v1/ask, but the passages arrive as soon as retrieval is done, before the slower reader."""
    pipeline: Pipeline = request.app.state.pipeline
    question = pipeline.check_question(body.question)  # a QuestionError here is a 422 before any event
    return StreamingResponse(
        _ask_events(request, pipeline, question, body.top_k), media_type="text/event-stream", headers=SSE_HEADERS
    )
