"""GET /healthz (what is loaded, for people and monitors) and GET /readyz (may traffic come, for load
balancers): both 200 once the models and the index are loaded, 503 before; /readyz also 503 while the
store (a Milvus server) does not answer. Neither names a path."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import PipelineDep
from api.schemas import ErrorOut, Health, Ready

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
LOADING = {"status_code": 503, "content": {"error": "loading"}, "headers": {"Retry-After": "5"}}


@router.get("/healthz", response_model=Health, responses={503: {"model": ErrorOut}})
def healthz(p: PipelineDep):
    if not p.loaded:
        return JSONResponse(**LOADING)
    return {
        "status": "ok",
        "passages": p.index.count(),
        "model": p.embedder.model_name,
        "reader": "span reader, held-out DRCD F1 {}".format((p.reader.info.get("validation") or {}).get("f1")),
        "index_kind": p.index.kind,
        "corpus": Path(p.index.manifest.get("corpus") or "").name,
        "documents": p.index.manifest.get("documents", 1),
    }


@router.get("/readyz", response_model=Ready, responses={503: {"model": ErrorOut}})
def readyz(p: PipelineDep):
    """Models loaded and the store answering: a replica whose Milvus is gone takes no traffic."""
    if not p.loaded:
        return JSONResponse(**LOADING)
    try:
        p.index.ping()
    except Exception:  # any failure to reach the store, whatever its client raises
        log.warning("readyz: the store does not answer", exc_info=True)
        return JSONResponse(status_code=503, content={"error": "the store does not answer"},
                            headers={"Retry-After": "5"})
    return {"status": "ready"}
