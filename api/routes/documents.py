"""The documents an index holds: GET /v1/documents lists them, GET /v1/documents/{id}/file serves one's original
(a PDF inline, so a viewer opens it at `#page=N`; anything else as a download), and for an admin key
POST /v1/documents (an upload) and DELETE /v1/documents/{id} change the collection without re-embedding the rest.
A change writes a new index version and switches to it at once: a failed upload leaves the served index as it was.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import AdminDep, PipelineDep, SettingsDep
from api.schemas import DocumentChange, DocumentInfo, DocumentList, ErrorOut
from qa.documents.errors import CorpusError
from qa.storage.collection import DocumentNotFound, add_documents, remove_documents

router = APIRouter(tags=["documents"])
CHUNK = 1 << 20
INLINE = {"pdf": "application/pdf"}  # shown in the browser; other formats are downloads (no page of ours runs them)
_UNSAFE = re.compile(r"[^\w.\- ]+")


@router.get("/v1/documents", response_model=DocumentList, summary="The documents the index holds")
def list_documents(p: PipelineDep) -> DocumentList:
    p.load(with_reader=False)
    return DocumentList(documents=[DocumentInfo(**d.to_dict()) for d in p.index.documents()])


@router.get("/v1/documents/{document_id}/file", response_class=FileResponse, summary="A document's original file",
            responses={200: {"content": {"application/pdf": {}, "application/octet-stream": {}}},
                       404: {"model": ErrorOut}})
def document_file(document_id: str, p: PipelineDep) -> FileResponse:
    p.load(with_reader=False)
    document = next((d for d in p.index.documents() if d.id == document_id), None)
    if document is None:
        raise HTTPException(404, f"no document {document_id!r}")
    path = p.index.original(document_id)
    if path is None or not path.is_file():
        raise HTTPException(404, f"the original of {document_id!r} is not kept by this index")
    name = Path(document.file).name
    inline = document.format in INLINE
    return FileResponse(path, media_type=INLINE.get(document.format, "application/octet-stream"), filename=name,
                        content_disposition_type="inline" if inline else "attachment",
                        headers={"Content-Security-Policy": "sandbox", "Cache-Control": "private, max-age=300"})


@router.post("/v1/documents", status_code=201, response_model=DocumentChange, summary="Add a document (admin key)",
             responses={200: {"model": DocumentChange, "description": "the same content is indexed already"},
                        401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 413: {"model": ErrorOut},
                        422: {"model": ErrorOut}})
async def upload_document(_: AdminDep, p: PipelineDep, s: SettingsDep,
                          file: UploadFile = File(..., description="PDF, Word .docx, HTML, Markdown, text, JSONL, "
                                                  "SQuAD JSON (chosen by content)"),
                          name: str | None = Form(None, description="the name to cite it by, e.g. reports/2023.pdf "
                                                  "(default: the upload's file name)")):
    cited = _cited_name(name or file.filename or "upload")
    folder = Path(tempfile.mkdtemp(prefix="qa-upload-"))
    try:
        path = folder / Path(cited).name
        await _save(file, path, int(s.max_document_mb * 1024 * 1024))
        try:
            report = await run_in_threadpool(add_documents, s, [path], p.embedder, False, {path: cited})
        except CorpusError as exc:
            raise HTTPException(422, f"file: {str(exc).removeprefix(f'{path}: ')}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if report.failures:
        raise HTTPException(422, f"file: {report.failures[0][1]}")
    p.load(with_reader=False)  # serve the new version from this request on
    if report.duplicates:
        existing = next(d for d in p.index.documents() if d.id == report.duplicates[0][1])
        body = DocumentChange(document=DocumentInfo(**existing.to_dict()), duplicate=True)
        return JSONResponse(body.model_dump(), status_code=200)
    return DocumentChange(document=DocumentInfo(**report.added[0].to_dict()),
                          replaced=bool(report.removed))


@router.delete("/v1/documents/{document_id}", response_model=DocumentChange, summary="Remove a document (admin key)",
               responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}})
async def delete_document(document_id: str, _: AdminDep, p: PipelineDep, s: SettingsDep) -> DocumentChange:
    try:
        report = await run_in_threadpool(remove_documents, s, [document_id])
    except DocumentNotFound:
        raise HTTPException(404, f"no document {document_id!r}") from None
    p.load(with_reader=False)
    return DocumentChange(document=DocumentInfo(**report.removed[0].to_dict()), removed=True)


def _cited_name(name: str) -> str:
    """A relative path to cite an upload by: no directory climbing, no absolute path, only plain characters."""
    parts = [_UNSAFE.sub("_", part).strip(". ") for part in re.split(r"[\\/]+", name)]
    parts = [part for part in parts if part]
    return "/".join(parts)[-200:] or "upload"


async def _save(upload: UploadFile, path: Path, limit: int) -> None:
    """The upload to `path`, refused with a 413 past `limit` bytes (the body limit has let it through that far)."""
    written = 0
    with open(path, "wb") as out:
        while chunk := await upload.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise HTTPException(413, f"the file is larger than {limit // (1024 * 1024)} MB (QA_MAX_DOCUMENT_MB)")
            out.write(chunk)
