"""POST /v1/feedback: a reader says whether an answer helped (and what the right one was), which
grows the eval set from real use (`qa feedback export` -> `qa eval`)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import FeedbackDep, PipelineDep
from api.schemas import ErrorOut, FeedbackCreated, FeedbackRequest
from qa.feedback import Feedback, resolve_feedback

router = APIRouter(tags=["feedback"])


@router.post("/v1/feedback", status_code=201, response_model=FeedbackCreated, responses={422: {"model": ErrorOut}},
             summary="Record whether an answer helped")
async def post_feedback(body: FeedbackRequest, p: PipelineDep, store: FeedbackDep) -> FeedbackCreated:
    question = p.check_question(body.question)
    box, gold, corpus = resolve_feedback(p.index, body.passage_id, body.correct_paragraph)
    feedback = Feedback(
        question=question, helpful=body.helpful, answer=body.answer, passage_id=body.passage_id,
        paragraph=body.paragraph, box=box, correct_answer=body.correct_answer,
        correct_paragraph=body.correct_paragraph, gold=gold, corpus_sha256=corpus,
    )
    return FeedbackCreated(id=await run_in_threadpool(store.add, feedback))
