"""GET /healthz: 200 once the models and the index are loaded."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import PipelineDep
from api.schemas import ErrorOut, Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": ErrorOut}})
def healthz(p: PipelineDep):
    if not p.loaded:
        return JSONResponse(status_code=503, content={"error": "loading"})
    return {
        "status": "ok",
        "passages": len(p.index.passages),
        "model": p.embedder.model_name,
        "reader": "span reader, held-out DRCD F1 {}".format((p.reader.info.get("validation") or {}).get("f1")),
        "index_kind": p.index.vectors.kind,
        "corpus": p.index.manifest.get("corpus", ""),
    }
