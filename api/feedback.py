"""POST /v1/feedback: a reader says whether an answer helped (and what the right one was), which
grows the eval set from real use (`qa feedback export` -> `qa eval`)."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from api.schemas import MAX_QUESTION_CHARS, ErrorOut
from qa.feedback import Feedback, FeedbackStore, feedback_path, passage_reference
from qa.pipeline import Pipeline

MAX_ANSWER_CHARS = 1000

router = APIRouter(tags=["feedback"])


class FeedbackRequest(BaseModel):
    question: str = Field(..., description="the question as asked")
    answer: str | None = Field(None, description="the answer shown; null when the service said it had none")
    passage_id: str | None = Field(None, description="id of the passage the shown answer cited")
    paragraph: int | None = Field(None, description="paragraph number the shown answer cited")
    helpful: bool = Field(..., description="did the answer help?")
    correct_answer: str | None = Field(None, description="the right answer, verbatim from the document, if known")
    correct_paragraph: int | str | None = Field(
        None, description='where the right answer is: a paragraph number, "box:<title>" or a passage id'
    )

    @field_validator("question")
    @classmethod
    def question_has_text(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the question is empty")
        if len(value) > MAX_QUESTION_CHARS:
            raise ValueError(f"the question is {len(value)} characters long; the limit is {MAX_QUESTION_CHARS}")
        return value

    @field_validator("answer", "correct_answer", "passage_id")
    @classmethod
    def short_text(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # "" means the same as leaving it out
        if len(value) > MAX_ANSWER_CHARS:
            raise ValueError(f"{len(value)} characters long; the limit is {MAX_ANSWER_CHARS}")
        return value.strip()

    @field_validator("correct_paragraph")
    @classmethod
    def paragraph_reference(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if re.fullmatch(r"\d+", value):
                return int(value)
        return value


class FeedbackCreated(BaseModel):
    id: int = Field(..., description="the stored feedback's number")


def _resolve(pipeline: Pipeline, body: FeedbackRequest) -> tuple[str | None, int | str | None, str | None]:
    """(box title of the cited passage, the correction as an eval reference, corpus checksum);
    a correction naming no passage of the document is the client's error (422)."""
    index = pipeline.index
    if index is None:  # not loaded: store as given
        gold = body.correct_paragraph
        return None, gold if isinstance(gold, int) or gold is None or gold.startswith("box:") else f"id:{gold}", None
    cited = index.by_id(body.passage_id) if body.passage_id else None
    box = cited.box if cited else None
    gold: int | str | None = None
    ref = body.correct_paragraph
    if isinstance(ref, int):
        if not any(p.paragraph == ref for p in index.passages):
            raise HTTPException(422, detail=f"correct_paragraph: the document has no paragraph {ref}")
        gold = ref
    elif isinstance(ref, str):
        if ref.startswith("box:"):
            title = ref[4:].strip()
            match = next((p for p in index.passages if (p.box or "").rstrip() == title), None)
        else:
            match = index.by_id(ref)
        if match is None:
            raise HTTPException(422, detail=f"correct_paragraph: no paragraph, box or passage {ref!r} in the document")
        gold = passage_reference(match.paragraph, match.box, match.id)
    return box, gold, index.manifest.get("corpus_sha256")


@router.post("/v1/feedback", status_code=201, response_model=FeedbackCreated, responses={422: {"model": ErrorOut}},
             summary="Record whether an answer helped")
async def post_feedback(body: FeedbackRequest, request: Request) -> FeedbackCreated:
    pipeline: Pipeline = request.app.state.pipeline
    box, gold, corpus = _resolve(pipeline, body)
    feedback = Feedback(
        question=body.question, helpful=body.helpful, answer=body.answer, passage_id=body.passage_id,
        paragraph=body.paragraph, box=box, correct_answer=body.correct_answer,
        correct_paragraph=body.correct_paragraph, gold=gold, corpus_sha256=corpus,
    )
    store = FeedbackStore(feedback_path(pipeline.settings))
    return FeedbackCreated(id=await run_in_threadpool(store.add, feedback))
