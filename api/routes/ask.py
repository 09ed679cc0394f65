"""POST /v1/ask and its streaming twin POST /v1/ask/stream (server-sent events, for the widget)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ADMISSION_RESPONSES, AdmissionDep, PipelineDep
from api.schemas import AskResponse, ErrorOut, HistoryTurn, QuestionRequest
from qa.language.followup import Resolution
from qa.pipeline import Pipeline, ReadingStopped
from qa.present import Language, answer_dict, ask_response, hit_dict, language_of, no_answer_message
from qa.types import AskResult, Turn

log = logging.getLogger(__name__)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # proxies must not hold events back
STREAM_DOC = (
    "Server-sent events, in this order: `passages` ({question, resolved_question, passages, timings_ms}) right after "
    "retrieval, `answer` ({answers, no_answer, message, unmatched_numbers, unmatched_names}) after reading, then "
    "`done` ({timings_ms}); `error` ({error}) replaces the rest if the server fails midway. Together they carry what "
    "`POST /v1/ask` returns."
)

router = APIRouter(tags=["answers"])


@router.post("/v1/ask", response_model=AskResponse, responses={422: {"model": ErrorOut}, **ADMISSION_RESPONSES})
def ask(body: QuestionRequest, _: AdmissionDep, p: PipelineDep):
    result = p.ask(body.question, body.top_k, documents=body.documents, history=turns(body.history))
    return ask_response(result, body.language)


def turns(history: list[HistoryTurn] | None) -> list[Turn] | None:
    return None if history is None else [Turn(t.role, t.content) for t in history]


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def read_while_connected(request: Request, answer: Callable[..., AskResult]) -> AskResult:
    """`answer(stop=...)` in a worker thread while a watcher asks every 20 ms whether the client is still there: once
    it has gone (or this stream is cancelled), reading stops before the next reader run (ReadingStopped). A client
    that closes right after the passages would otherwise cost a whole read (~0.12 CPU-s)."""
    gone = threading.Event()

    async def watch() -> None:
        while not gone.is_set():
            if await request.is_disconnected():
                gone.set()
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    try:
        return await run_in_threadpool(answer, stop=gone.is_set)
    finally:
        gone.set()  # also when cancelled: the worker thread, which cannot be cancelled, stops at its next run
        watcher.cancel()


async def _ask_events(request: Request, pipeline: Pipeline, resolution: Resolution, top_k: int | None,
                      language: Language | None, documents: list[str] | None) -> AsyncIterator[str]:
    """Retrieve, send the passages, read, send the answers; a client that has gone gets no more work done:
    the read starts only if the client is still there after the passages (the log names the last stage run)."""
    stage, finished = "retrieve", False
    try:
        question = resolution.question
        hits, retrieve_ms, resolution = await run_in_threadpool(pipeline.retrieve, resolution, top_k, documents)
        language = language or language_of(question)
        files = pipeline.cites_files
        passages = [hit_dict(h, language, files) for h in hits]
        yield _event("passages", {"question": question, "resolved_question": resolution.resolved,
                                  "passages": passages, "timings_ms": {"retrieve": retrieve_ms}})
        if await request.is_disconnected():
            return
        stage = "read"
        try:
            result = await read_while_connected(request, partial(pipeline.answer, question, hits, retrieve_ms, None,
                                                                 resolution))
        except ReadingStopped:
            return
        if await request.is_disconnected():  # gone during the last reader run: its answer goes unsent
            return
        yield _event("answer", {"answers": [answer_dict(a, language, files) for a in result.answers],
                                "no_answer": result.no_answer, "message": no_answer_message(result, language),
                                "language": language,
                                "unmatched_numbers": result.unmatched_numbers,
                                "unmatched_names": result.unmatched_names})
        finished = True
        yield _event("done", {"timings_ms": result.timings_ms})
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
    responses={200: {"content": {"text/event-stream": {}}, "description": STREAM_DOC}, 422: {"model": ErrorOut},
               **ADMISSION_RESPONSES},
)
async def ask_stream(body: QuestionRequest, _: AdmissionDep, request: Request, p: PipelineDep) -> StreamingResponse:
    """Like /v1/ask, but the passages arrive as soon as retrieval is done, before the slower reader;
    the stream holds its admission slot until its last event."""
    resolution = p.resolve(body.question, turns(body.history))  # a QuestionError here is a 422 before any event
    p.top_k(body.top_k)  # so is a top_k over the limit
    documents = p.documents(body.documents)  # and an unknown document
    return StreamingResponse(
        _ask_events(request, p, resolution, body.top_k, body.language, documents), media_type="text/event-stream",
        headers=SSE_HEADERS,
    )
