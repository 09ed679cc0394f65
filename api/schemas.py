"""Request and response models: they validate input and document the API at /docs."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

MAX_QUESTION_CHARS = 1000
MAX_TOP_K = 50


class QuestionRequest(BaseModel):
    question: str = Field(
        ...,
        description="the question, in Chinese (either script) or English",
        examples=["2022年人道主義援助籌集了多少資金?"],
    )
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="passages to retrieve")

    @field_validator("question")
    @classmethod
    def question_has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        if len(value) > MAX_QUESTION_CHARS:
            raise ValueError(f"the question is {len(value)} characters long; the limit is {MAX_QUESTION_CHARS}")
        return value


class PassageOut(BaseModel):
    id: str
    text: str
    order: int
    paragraph: int | None = None
    box: str | None = None
    section: str | None = None
    heading: str | None = None
    after: int | None = None


class HitOut(PassageOut):
    score: float = Field(..., description="fused retrieval score (z-score mix of dense and keyword)")
    dense_score: float | None = None
    sparse_score: float | None = None
    dense_rank: int | None = None
    sparse_rank: int | None = None


class AnswerOut(BaseModel):
    text: str = Field(..., description="verbatim span: passage.text[start:end]")
    score: float = Field(..., description="reader confidence, 0-1")
    id: str
    paragraph: int | None
    box: str | None
    section: str | None
    start: int
    end: int
    context: str = Field(..., description="the passage text around the span")
    context_start: int = Field(..., description="offset of `context` in the passage text")


class SearchResponse(BaseModel):
    question: str
    passages: list[HitOut]


class AskResponse(BaseModel):
    question: str
    no_answer: bool = Field(..., description="true when the document does not seem to answer the question")
    answers: list[AnswerOut]
    passages: list[HitOut]
    timings_ms: dict[str, float]


class Health(BaseModel):
    status: str
    passages: int
    model: str
    reader: str
    index_kind: str
    corpus: str


class ErrorOut(BaseModel):
    error: str
    detail: list | None = None
