"""POST /v1/search: the ranked passages for a question, with their retrieval scores."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PipelineDep
from api.schemas import ErrorOut, QuestionRequest, SearchResponse
from qa.serialize import search_response

router = APIRouter(tags=["answers"])


@router.post("/v1/search", response_model=SearchResponse, responses={422: {"model": ErrorOut}})
def search(body: QuestionRequest, p: PipelineDep):
    return search_response(body.question, p.search(body.question, body.top_k))
