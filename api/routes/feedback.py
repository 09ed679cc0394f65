"""POST /v1/feedback: a reader says whether an answer helped (and what the right one was), which
grows the eval set from real use (`qa feedback export` -> `qa eval`); GET /v1/feedback/export hands
the same export to an admin key holder."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Response
from starlette.concurrency import run_in_threadpool

from api.deps import AdminDep, ClientDep, FeedbackDep, FeedbackLimitDep, MetricsDep, PipelineDep
from api.limits import retry_after
from api.schemas import ErrorOut, FeedbackCreated, FeedbackRequest
from qa.feedback import Feedback, QuotaExceeded, resolve_feedback

router = APIRouter(tags=["feedback"])


@router.post("/v1/feedback", status_code=201, response_model=FeedbackCreated,
             responses={422: {"model": ErrorOut}, 429: {"model": ErrorOut}}, summary="Record whether an answer helped")
async def post_feedback(body: FeedbackRequest, _: FeedbackLimitDep, p: PipelineDep, store: FeedbackDep,
                        client: ClientDep, metrics: MetricsDep) -> FeedbackCreated:
    question = p.check_question(body.question)
    box, gold, corpus = resolve_feedback(p.index, body.passage_id, body.paragraph, body.correct_paragraph)
    feedback = Feedback(
        question=question, helpful=body.helpful, answer=body.answer, passage_id=body.passage_id,
        paragraph=body.paragraph, box=box, correct_answer=body.correct_answer,
        correct_paragraph=body.correct_paragraph, gold=gold, corpus_sha256=corpus, client=client,
    )
    try:
        return FeedbackCreated(id=await run_in_threadpool(store.add, feedback))
    except QuotaExceeded as exc:
        metrics.reject("feedback_quota")
        raise HTTPException(429, str(exc), headers=retry_after(exc.retry_after_s)) from None


@router.get("/v1/feedback/export", response_class=Response, summary="The feedback as eval questions (admin key)",
            responses={200: {"content": {"application/x-ndjson": {}}}, 401: {"model": ErrorOut},
                       403: {"model": ErrorOut}})
async def export_feedback(_: AdminDep, store: FeedbackDep) -> Response:
    """What `qa feedback export` writes: JSONL in docs/EVAL.md's format, with each row's client."""
    rows, _skipped = await run_in_threadpool(store.export_rows)
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return Response(text, media_type="application/x-ndjson")
