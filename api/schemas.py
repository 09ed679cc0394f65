"""Request and response models: they validate input and document the API at /docs."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from qa.present import Language

MAX_ANSWER_CHARS = 1000
MAX_REF_CHARS = 200  # a passage id or "box:<title>"
MAX_PARAGRAPH = 100_000  # far above any document's paragraph count, far below SQLite's integer range


class HistoryTurn(BaseModel):
    """One earlier message of the conversation, in OpenAI's shape."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(..., description="a user's question, or the answer the assistant gave (with its citation "
                         "marker, e.g. `3300萬人 [¶121]`, if it had one)")


class QuestionRequest(BaseModel):
    """The question is checked by the one validator the CLI uses too (`qa.language.text.check_question`,
    limit `QA_MAX_QUESTION_CHARS`); `top_k` defaults to `QA_TOP_K` and may not exceed `QA_MAX_TOP_K`."""

    question: str = Field(
        ...,
        description="the question, in Chinese (either script) or English; at most QA_MAX_QUESTION_CHARS (1000)",
        examples=["2022年人道主義援助籌集了多少資金?"],
    )
    top_k: int | None = Field(
        None, description="passages to retrieve: default QA_TOP_K (5), at most QA_MAX_TOP_K (50)"
    )
    documents: list[Annotated[str, Field(max_length=200)]] | None = Field(
        None, description="ask only these documents (ids as GET /v1/documents lists them); default: all",
        max_length=1000, examples=[None])
    history: list[HistoryTurn] | None = Field(
        None, description="the conversation so far, oldest first (at most QA_MAX_HISTORY_TURNS messages): a follow-up "
        "question (\"那2021年呢?\", \"What about Afghanistan?\") is answered as the conversation resolves it",
        examples=[None])
    language: Language | None = Field(
        None, description="the language of the citation labels and the no-answer message (zh-Hant, zh-Hans, en); "
        "default: the question's"
    )


class DocumentOut(BaseModel):
    id: str = Field(..., description="the document's id: GET /v1/documents lists them; `documents` in a question")
    title: str
    file: str = Field(..., description="the file, relative to the folder indexed")


class DocumentInfo(BaseModel):
    id: str = Field(..., description="what `documents` in a question and DELETE /v1/documents/{id} take")
    title: str
    file: str = Field(..., description="the file, relative to the folder indexed")
    sha256: str
    format: str = Field(..., description="pdf, docx, html, markdown, report, squad, jsonl or text")
    pages: int | None = Field(None, description="a PDF's pages")
    passages: int
    added: str = Field(..., description="when it was indexed (UTC)")


class DocumentList(BaseModel):
    documents: list[DocumentInfo]


class DocumentChange(BaseModel):
    document: DocumentInfo
    duplicate: bool = Field(False, description="the same content was indexed already, as this document")
    replaced: bool = Field(False, description="a document of the same name was indexed before: this replaced it")
    removed: bool = False


class PassageOut(BaseModel):
    id: str = Field(..., description="<document id>:<the passage's id in its document>")
    text: str
    order: int
    paragraph: int | None = Field(None, description="the document's own paragraph number, else the ordinal")
    box: str | None = None
    section: str | None = None
    heading: str | None = None
    after: int | None = None
    document: DocumentOut | None = None
    page: int | None = Field(None, description="the page it starts on (paged documents: PDF)")
    page_starts: list[int] = Field(default_factory=list, description="offsets in `text` where page + 1, page + 2, "
                                   "... begin (a paragraph running over a page break)")
    citation: str = Field(..., description="where the passage is, for people, in the question's language: "
                          "第121段 · E. 有效協調人道主義援助, or Paragraph 121 · … in English")


class HitOut(PassageOut):
    score: float = Field(..., description="fused retrieval score (z-score mix of dense and keyword)")
    dense_score: float | None = None
    sparse_score: float | None = None
    dense_rank: int | None = None
    sparse_rank: int | None = None


class AnswerOut(BaseModel):
    text: str = Field(..., description="verbatim span: passage.text[start:end]")
    score: float = Field(..., description="confidence that the answer is right, 0-1: the reader's span "
                         "probability, its passage's retrieval score and an English question's keyword "
                         "coverage combined (qa/reading/confidence.py)")
    id: str
    document: DocumentOut | None
    page: int | None = Field(None, description="the page where the answer is (paged documents: PDF)")
    paragraph: int | None
    box: str | None
    section: str | None
    citation: str = Field(..., description="where the answer is, for people, in the question's language: "
                          "report.pdf · p. 12 · ¶35 (the file when the index holds several documents)")
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
    message: str | None = Field(None, description="with no answer: the sentence to show, in the question's "
                                "language (with the numbers no passage found mentions)")
    resolved_question: str = Field(..., description="the question answered: the question itself, or a follow-up "
                                   "completed from the history")
    language: Language = Field(..., description="the language of the citation labels and message: the request's "
                               "`language`, else the question's")
    answers: list[AnswerOut]
    passages: list[HitOut]
    timings_ms: dict[str, float]
    tokens_read: int = Field(0, description="tokens the reader ran over for this answer (0 when cached)")
    unmatched_numbers: list[str] = Field(
        default_factory=list, description="numbers the question names (a year, a count) that no passage found "
        "holds: why there is no answer, when set")
    unmatched_names: list[str] = Field(
        default_factory=list, description="places and bodies a Chinese question names (CC-CEDICT proper nouns) that no "
        "passage found holds, as the question writes them: why there is no answer, when set")


class Health(BaseModel):
    status: str
    passages: int
    model: str
    reader: str
    index_kind: str
    corpus: str = Field(..., description="the document's file name, for an index of one document ('' for several)")
    documents: int = Field(1, description="documents in the index (GET /v1/documents lists them)")


class Ready(BaseModel):
    status: str = Field(..., description='"ready": models and index are loaded')


class ErrorOut(BaseModel):
    error: str
    detail: list | None = None


class FeedbackRequest(BaseModel):
    """Strict: unknown fields are refused, and the route checks every reference against the document."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., description="the question as asked")
    answer: str | None = Field(None, description="the answer shown; null when the service said it had none")
    passage_id: str | None = Field(None, description="id of the passage the shown answer cited")
    paragraph: int | None = Field(None, ge=1, le=MAX_PARAGRAPH, description="paragraph number the shown answer cited")
    helpful: bool = Field(..., description="did the answer help?")
    correct_answer: str | None = Field(None, description="the right answer, verbatim from the document, if known")
    correct_paragraph: int | str | None = Field(
        None, description='where the right answer is: a paragraph number, "box:<title>" or a passage id'
    )

    @field_validator("answer", "correct_answer", "passage_id")
    @classmethod
    def short_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None  # "" means the same as leaving it out
        limit = MAX_REF_CHARS if info.field_name == "passage_id" else MAX_ANSWER_CHARS
        if len(value) > limit:
            raise ValueError(f"{len(value)} characters long; the limit is {limit}")
        return value.strip()

    @field_validator("correct_paragraph")
    @classmethod
    def paragraph_reference(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if len(value) > MAX_REF_CHARS:
                raise ValueError(f"{len(value)} characters long; the limit is {MAX_REF_CHARS}")
            if re.fullmatch(r"\d+", value):
                value = int(value)
        if isinstance(value, int) and not 1 <= value <= MAX_PARAGRAPH:
            raise ValueError(f"a paragraph number is between 1 and {MAX_PARAGRAPH}")
        return value


class FeedbackCreated(BaseModel):
    id: int = Field(..., description="the stored feedback's number")
