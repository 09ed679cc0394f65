"""OpenAI-compatible POST /v1/chat/completions and GET /v1/models, so every chat client that speaks
OpenAI's API (docs/INTEGRATIONS.md) gets the cited extractive answer, with OpenAI-shaped errors."""

from __future__ import annotations

import calendar
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.chat_reply import compose_reply
from api.deps import AdmissionDep, PipelineDep, SettingsDep
from api.errors import openai_error, openai_error_body
from api.openai_schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    Choice,
    ModelCard,
    ModelList,
    OpenAIError,
    Usage,
)
from api.routes.ask import SSE_HEADERS, read_while_connected
from qa.config import Settings
from qa.pipeline import Pipeline, ReadingStopped
from qa.types import InputError, Turn

log = logging.getLogger(__name__)
INTERNAL = "internal error; the server log has the details"
CHAT_DOC = """OpenAI Chat Completions, answered from the document: the question is the **last user message**
(a string, or a list of `{"type": "text", "text": ...}` parts); the user and assistant messages before it are the
conversation a follow-up ("那2021年呢?", "What about Afghanistan?") is resolved against (the most recent
QA_MAX_HISTORY_TURNS of them); system prompts are ignored.

The assistant's `content` is the verbatim answer, a citation marker (`[¶121]`, or `[專欄: title]` for a box),
a blank line and `Sources: ¶121 (section) "…context…"`. When the document does not answer, it is an honest
sentence in the question's language (Traditional, Simplified or English) and the closest paragraphs.

`message.annotations` carries the citation as data: `{"type": "citation", "citation": {passage_id, paragraph,
box, section, label, text, start, end, context, context_start, score, start_index, end_index}}`, where `start`/`end`
are offsets into the passage text and `start_index`/`end_index` the answer's range in `content`; no answer,
no annotations. `usage` counts characters, not tokens.

Ignored: temperature, top_p, max_tokens, stop, seed, user, response_format, stream_options and the like.
Refused with a 400: `n` other than 1, tools or functions; an unknown `model` is a 404; too many requests
a 429, a busy or loading server a 503 (both with Retry-After). Errors have OpenAI's shape
`{"error": {"message", "type", "code", "param"}}`.

With `stream: true`: server-sent `chat.completion.chunk` events (`data: {...}`): the role, the answer with
its annotations, the sources, a chunk with `finish_reason: "stop"`, then `data: [DONE]`."""


class ChatError(Exception):
    """A request OpenAI would refuse, carried to the client in OpenAI's error shape."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.param = status, code, param


def _field(error: dict) -> str:
    """The request field an error is about, dotted (messages.0.content); `body` for the body as a whole."""
    if error.get("type") == "json_invalid":  # its location is a character offset, not a field
        return "body"
    return ".".join(str(x) for x in error.get("loc", ()) if x != "body") or "body"


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    """A 400 naming the first field at fault, as OpenAI does (the SDK raises BadRequestError)."""
    errors = exc.errors()
    message = "; ".join(f"{_field(e)}: {e.get('msg', 'invalid').removeprefix('Value error, ')}" for e in errors)
    param = _field(errors[0]) if errors else "body"
    return openai_error(400, message or "invalid request", "invalid_value", None if param == "body" else param)


class OpenAIRoute(APIRoute):
    """Errors of these routes in OpenAI's shape, which OpenAI clients parse; the rest of the API keeps its own."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ChatError as exc:
                return openai_error(exc.status, str(exc), exc.code, exc.param)
            except RequestValidationError as exc:
                return _validation_response(exc)
            except StarletteHTTPException as exc:  # admission (429/503 with Retry-After), a body not UTF-8 (400)
                return openai_error(exc.status_code, str(exc.detail), headers=exc.headers)
            except Exception:
                log.exception("%s failed", request.url.path)
                return openai_error(500, INTERNAL)

        return route


router = APIRouter(tags=["OpenAI-compatible"], route_class=OpenAIRoute)
# "4XX" rather than 400 and 404: it also keeps FastAPI from documenting a 422 these routes never send
ERRORS = {"4XX": {"model": OpenAIError, "description": "refused: 400 bad request, 404 unknown model, 429 rate limit"}}


def _model_card(p: Pipeline, s: Settings) -> ModelCard:
    built = (p.index.manifest.get("created") if p.index else None) or ""
    try:
        created = calendar.timegm(time.strptime(built, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        created = 0
    return ModelCard(id=s.chat_model_id, created=created)


def _check_model(model: str, s: Settings) -> None:
    if model != s.chat_model_id:
        raise ChatError(404, f"The model '{model}' does not exist; this service serves '{s.chat_model_id}'",
                        "model_not_found", "model")


@router.get("/v1/models", response_model=ModelList, summary="The one model (OpenAI's list shape)")
def list_models(p: PipelineDep, s: SettingsDep) -> ModelList:
    return ModelList(data=[_model_card(p, s)])


@router.get("/v1/models/{model_id}", response_model=ModelCard, responses=ERRORS, summary="The model, by id")
def get_model(model_id: str, p: PipelineDep, s: SettingsDep) -> ModelCard:
    _check_model(model_id, s)
    return _model_card(p, s)


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, list):
        return " ".join(part.text for part in message.content if part.type == "text" and part.text)
    return message.content or ""


def _question(body: ChatCompletionRequest, p: Pipeline, s: Settings) -> tuple[str, list[Turn]]:
    """The question (the last user message) with the conversation before it, once the request is one this service
    can answer."""
    _check_model(body.model, s)
    if body.n not in (None, 1):
        raise ChatError(400, "n must be 1: there is one extractive answer per question", "unsupported_value", "n")
    for name in ("tools", "functions"):
        if getattr(body, name):
            raise ChatError(400, f"{name} are not supported: answers come from the document, not from tools",
                            "unsupported_parameter", name)
    users = [m for m in body.messages if m.role == "user"]
    if not users:
        raise ChatError(400, "messages has no user message: the last one is the question", "invalid_value",
                        "messages")
    try:
        question = p.check_question(_text(users[-1]))
    except InputError as exc:
        raise ChatError(400, f"the last user message: {exc}", "invalid_value", "messages") from exc
    history = _history(body.messages[:body.messages.index(users[-1])], s)
    try:
        p.check_history(history)
    except InputError as exc:
        raise ChatError(400, f"messages: {exc}", "invalid_value", "messages") from exc
    return question, history


def _history(messages: list[ChatMessage], s: Settings) -> list[Turn]:
    """The user and assistant messages before the question: the most recent QA_MAX_HISTORY_TURNS, each cut to its
    limit (a chat client sends the whole conversation; system prompts do not resolve a follow-up)."""
    turns = []
    for m in messages:
        text = " ".join(_text(m).split())
        if m.role in ("user", "assistant") and text:
            turns.append(Turn(m.role, text[: s.max_question_chars if m.role == "user" else s.max_history_chars]))
    return turns[-s.max_history_turns:] if s.max_history_turns else []


STREAMED = {200: {"content": {"text/event-stream": {}}, "description": "the completion, or its chunks when streaming"},
            "5XX": {"model": OpenAIError, "description": "503: busy or loading, see Retry-After"}}


@router.post("/v1/chat/completions", response_model=ChatCompletion, responses={**ERRORS, **STREAMED},
             summary="Ask in OpenAI's Chat Completions shape", description=CHAT_DOC)
async def chat_completions(body: ChatCompletionRequest, _: AdmissionDep, request: Request, p: PipelineDep,
                           s: SettingsDep):
    question, history = _question(body, p, s)  # every refusal comes before any answering or streaming
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        return StreamingResponse(_chunks(request, p, question, history, reply_id, created, body.model),
                                 media_type="text/event-stream", headers=SSE_HEADERS)
    pieces, annotations = compose_reply(await run_in_threadpool(partial(p.ask, question, history=history)))
    content = "".join(pieces)
    return ChatCompletion(
        id=reply_id, created=created, model=body.model,
        choices=[Choice(message=AssistantMessage(content=content, annotations=annotations))],
        usage=Usage(prompt_tokens=len(question), completion_tokens=len(content),
                    total_tokens=len(question) + len(content)),
    )


def _sse(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _chunks(request: Request, p: Pipeline, question: str, history: list[Turn], reply_id: str, created: int,
                  model: str) -> AsyncIterator[str]:
    """The role at once (clients show a typing state), then the reply in pieces, `stop` and [DONE]; a client gone
    before the answer stops the reading."""

    def chunk(delta: dict, finish_reason: str | None = None) -> str:
        return _sse({"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]})

    yield chunk({"role": "assistant", "content": ""})
    try:
        pieces, annotations = compose_reply(await read_while_connected(request, partial(p.ask, question,
                                                                                         history=history)))
    except ReadingStopped:
        return
    except Exception:
        log.exception("chat/completions stream failed")
        yield _sse(openai_error_body(500, INTERNAL))  # OpenAI's mid-stream error event; the SDK raises it
        return
    for i, piece in enumerate(pieces):
        delta = {"content": piece}
        if i == 0 and annotations:
            delta["annotations"] = [a.model_dump() for a in annotations]
        yield chunk(delta)
    yield chunk({}, "stop")
    yield "data: [DONE]\n\n"
