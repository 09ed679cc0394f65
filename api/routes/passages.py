"""GET /v1/passages/{id}: one passage of the document, to show a citation in full."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from api.deps import PipelineDep
from api.schemas import ErrorOut, PassageOut
from qa.present import passage_dict

router = APIRouter(tags=["passages"])


@router.get("/v1/passages/{passage_id}", response_model=PassageOut, responses={404: {"model": ErrorOut}})
def passage(passage_id: str, p: PipelineDep):
    found = p.passage(passage_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no passage with id {passage_id!r}")
    return passage_dict(found, with_file=p.cites_files)
