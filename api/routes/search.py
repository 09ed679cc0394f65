"""POST /v1/search: the ranked passages for a question, with their retrieval scores."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ADMISSION_RESPONSES, AdmissionDep, PipelineDep
from api.schemas import ErrorOut, QuestionRequest, SearchResponse
from qa.present import search_response

router = APIRouter(tags=["answers"])


@router.post("/v1/search", response_model=SearchResponse, responses={422: {"model": ErrorOut}, **ADMISSION_RESPONSES})
def search(body: QuestionRequest, _: AdmissionDep, p: PipelineDep):
    question = p.check_question(body.question)  # answer with the question as it was searched
    hits = p.search(question, body.top_k, body.documents)
    return search_response(question, hits, body.language, p.cites_files)
