"""OpenAI Chat Completions shapes for /v1/chat/completions and /v1/models: what lets any OpenAI client
(the SDKs, Open WebUI, LibreChat, Chatbox) talk to the service unchanged (docs/INTEGRATIONS.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import DocumentOut


class ContentPart(BaseModel):
    """One part of a multi-part message; only `text` parts carry the question."""

    model_config = ConfigDict(extra="ignore")

    type: str = Field(..., description='"text" parts are read; images, audio and files are ignored')
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")  # name, tool_calls, ... are accepted and ignored

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's request; the question is the last `user` message and earlier turns are ignored.
    Parameters this service has no use for (temperature, top_p, max_tokens, stop, seed, user,
    response_format, stream_options, ...) are accepted and ignored."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{"model": "cited-qa", "messages": [
            {"role": "user", "content": "巴基斯坦的暴雨洪灾波及了多少人?"}]}]},
    )

    model: str = Field(..., description="QA_CHAT_MODEL_ID (default cited-qa); any other id is a 404")
    messages: list[ChatMessage] = Field(..., min_length=1, description="the last user message is the question")
    # strict: "yes", "false" or 0 are a 400, as OpenAI refuses them, not a guess at what was meant
    stream: bool = Field(False, strict=True,
                         description="server-sent `chat.completion.chunk` events ending in `data: [DONE]`")
    n: int | None = Field(None, strict=True, description="only 1: there is one extractive answer")
    tools: list[Any] | None = Field(None, description="not supported: a non-empty list is a 400")
    functions: list[Any] | None = Field(None, description="not supported: a non-empty list is a 400")


class Citation(BaseModel):
    passage_id: str = Field(..., description="the cited passage: GET /v1/passages/{passage_id} returns it")
    document: DocumentOut | None = Field(None, description="the document the passage is from")
    page: int | None = Field(None, description="the page of a paged document (PDF) where the answer is")
    paragraph: int | None = Field(..., description="the paragraph number, or null for a box or footnote")
    box: str | None = Field(..., description="the box title when the passage is a boxed sidebar")
    section: str | None
    label: str = Field(..., description="where the passage is, for people, in the question's language: "
                       "第121段 · E. 有效協調人道主義援助")
    text: str = Field(..., description="the answer, verbatim: passage text[start:end]")
    start: int = Field(..., description="offset of the answer in the passage text")
    end: int
    context: str = Field(..., description="the passage text around the answer")
    context_start: int = Field(..., description="offset of `context` in the passage text")
    score: float = Field(..., description="confidence that the answer is right, 0-1: the reader's span "
                         "probability, its passage's retrieval score and an English question's keyword "
                         "coverage combined (qa/reading/confidence.py)")
    start_index: int = Field(..., description="where the answer starts in the message content")
    end_index: int = Field(..., description="content[start_index:end_index] == text (Unicode code points)")


class Annotation(BaseModel):
    """Shaped like OpenAI's `url_citation` annotation, with the passage in place of a URL."""

    type: Literal["citation"] = "citation"
    citation: Citation


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str = Field(..., description="the answer, a citation marker and a sources block (or a no-answer note)")
    annotations: list[Annotation] = Field(..., description="one citation per answer; empty when there is none")
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    """Character counts, not tokens: the service runs no generative model to count tokens for."""

    prompt_tokens: int = Field(..., description="characters in the question asked")
    completion_tokens: int = Field(..., description="characters in the message content")
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(..., description="when the index was built (Unix time)")
    owned_by: str = "cited-qa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class OpenAIErrorBody(BaseModel):
    message: str
    type: str = Field(..., description='"invalid_request_error" for a 4xx, "server_error" for a 5xx')
    code: str | None = Field(None, description='e.g. "model_not_found", "unsupported_parameter", "invalid_value"')
    param: str | None = Field(None, description="the request field at fault, e.g. messages or n")


class OpenAIError(BaseModel):
    error: OpenAIErrorBody
