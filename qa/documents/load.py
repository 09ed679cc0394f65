"""Turning a file into a document and its passages: the format is chosen by the file's content (its extension only
breaks a tie), then its reader runs.

    PDF (text layer per page; OCR for pages without one)   qa/documents/pdf.py
    Word .docx                                              qa/documents/docx.py
    web page (main content only)                            qa/documents/html.py
    Markdown                                                qa/documents/markdown.py
    the UN report's text layout (numbered paragraphs, boxes, footnotes)   qa/documents/report.py
    SQuAD JSON (each paragraph a passage), JSON lines ({"id", "text", ...} a line), plain text (blank-line blocks)

Every passage knows its document (`DocumentRef`: id, title, file) and its id is "<document id>:<local id>".
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from qa.documents.blocks import Block, passages_from_blocks
from qa.documents.errors import CorpusError
from qa.documents.records import parse_jsonl
from qa.documents.report import is_report_layout, parse_report
from qa.documents.squad import SquadFormatError, is_squad_json, read_squad
from qa.types import Document, DocumentRef, Passage

BUNDLED_CORPUS = Path(__file__).resolve().parents[1] / "bundled" / "un-sg-report-2023.zh-Hant.txt"
SUFFIXES = {".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html", ".xhtml": "html", ".md": "markdown",
            ".markdown": "markdown", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".txt": "text"}
_HTML = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.I)
_MARKDOWN = re.compile(r"^(#{1,6} \S|\s*[-*] \S.*\n\s*[-*] \S|```)", re.M)


@dataclass(frozen=True)
class Limits:
    """What one file may cost to read (QA_MAX_DOCUMENT_MB, QA_MAX_DOCUMENT_PAGES)."""

    max_mb: float = 100.0
    max_pages: int = 2000


def corpus_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def slug(text: str) -> str:
    """A document id from a file name: lower case, words joined by "-" (Chinese kept), at most 48 characters."""
    out = re.sub(r"[^\w]+", "-", text.lower()).strip("-_")[:48].strip("-_")
    return out or "document"


def document_id(file: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """The id of the document at `file` (its path relative to the folder indexed): unique among `taken`."""
    base = slug(re.sub(r"\.[A-Za-z0-9]{1,8}$", "", file))
    found, n = base, 1
    while found in taken:
        n += 1
        found = f"{base}-{n}"
    return found


def detect_format(path: Path) -> str:
    """The document's format from its first bytes (and its extension where content cannot tell)."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    suffix = SUFFIXES.get(path.suffix.lower())
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise CorpusError(f"{path}: a damaged ZIP archive") from exc
        if "word/document.xml" in names:
            return "docx"
        kind = ("a spreadsheet (.xlsx)" if any(n.startswith("xl/") for n in names) else "a presentation (.pptx)"
                if any(n.startswith("ppt/") for n in names) else "an EPUB" if "mimetype" in names else "a ZIP archive")
        raise CorpusError(f"{path}: {kind}, which is not a supported document type (PDF, Word .docx, HTML, Markdown, "
                          "text, JSON lines, SQuAD JSON)")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise CorpusError(f"{path}: a legacy Office file (.doc, .xls or .ppt); save it as .docx or PDF")
    for magic, name in ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
                        (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"\x1f\x8b", "a gzip archive"),
                        (b"7z\xbc\xaf", "a 7-Zip archive"), (b"Rar!", "a RAR archive")):
        if head.startswith(magic):
            raise CorpusError(f"{path}: {name}, which is not a supported document type (put images in a PDF to "
                              "have them read by OCR)")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorpusError(f"{path}: a binary file of unknown type, not a supported document")
    if _HTML.search(head[:4096]) or suffix == "html":
        return "html"
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if suffix == "json" and text.startswith("["):
        raise CorpusError(f"{path}: a JSON array is not supported; use JSON lines or SQuAD format")
    if suffix == "jsonl" or text.startswith("{"):
        return "json"
    if suffix == "markdown" or (suffix != "text" and _MARKDOWN.search(text)):
        return "markdown"
    return "text"


def read_text_file(path: Path) -> str:
    data = Path(path).read_bytes()
    codec = next((c for bom, c in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
                  if data.startswith(bom)), "utf-8")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text (byte {exc.start})" if codec == "utf-8" else
                          f"{path}: not valid {codec.upper()} text (byte {exc.start})") from exc


def read_document(path: Path, file: str | None = None, doc_id: str | None = None, limits: Limits = Limits(),
                  sha256: str | None = None) -> tuple[Document, list[Passage]]:
    """The document at `path` and its passages; `file` is its name as cited (the path relative to the folder
    indexed; default the file's name) and `doc_id` its id (default from `file`). CorpusError names the file and
    says why it can't be read."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    size = path.stat().st_size
    if size > limits.max_mb * 1024 * 1024:
        raise CorpusError(f"{path}: {size / (1024 * 1024):.0f} MB; the limit is {limits.max_mb:g} MB "
                          "(QA_MAX_DOCUMENT_MB)")
    if size == 0:
        raise CorpusError(f"{path}: the file is empty")
    file = file or path.name
    ref = DocumentRef(doc_id or document_id(file), path.stem, file)
    kind, title, pages, passages = _read(path, detect_format(path), ref, limits)
    if not passages:
        raise CorpusError(f"{path}: no text found")
    ref = DocumentRef(ref.id, title or ref.title, file)
    passages = [replace(p, document=ref) for p in passages]
    document = Document(ref.id, ref.title, file, sha256 or corpus_checksum(path), kind, pages, len(passages),
                        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return document, passages


Read = tuple[str, str | None, int | None, list[Passage]]  # format, title, pages, passages


def _read(path: Path, kind: str, ref: DocumentRef, limits: Limits) -> Read:
    if kind == "pdf":
        from qa.documents.pdf import read_pdf

        found = read_pdf(path, limits.max_pages)
        return kind, found.title, found.pages, passages_from_blocks(found.blocks, ref)
    if kind == "docx":
        from qa.documents.docx import read_docx

        title, blocks = read_docx(path)
        return kind, title, None, passages_from_blocks(blocks, ref)
    text = read_text_file(path)
    if not text.strip():
        raise CorpusError(f"{path}: the file is empty")
    if kind == "html":
        from qa.documents.html import read_html

        title, blocks = read_html(text)
        return kind, title, None, passages_from_blocks(blocks, ref)
    if kind == "markdown":
        from qa.documents.markdown import read_markdown

        title, blocks = read_markdown(text)
        return kind, title, None, passages_from_blocks(blocks, ref)
    if kind == "json":
        return _read_json(path, text, ref)
    if is_report_layout(text):
        return "report", _first_line(text), None, _local(parse_report(text, path), ref)
    blocks = [Block(b.strip()) for b in re.split(r"\n\s*\n", text) if b.strip()]
    return kind, _first_line(text), None, passages_from_blocks(blocks, ref)


def _read_json(path: Path, text: str, ref: DocumentRef) -> Read:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return "jsonl", None, None, _local(parse_jsonl(text, path), ref)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:  # several objects: JSON lines without the extension
        return "jsonl", None, None, _local(parse_jsonl(text, path), ref)
    if not is_squad_json(data):
        raise CorpusError(f"{path}: JSON but neither SQuAD format (a 'data' list) nor JSON lines")
    try:
        paragraphs, _ = read_squad(path)
    except SquadFormatError as exc:
        raise CorpusError(str(exc)) from exc
    passages = [Passage(id=p.id, text=p.context, order=i, section=p.title or None) for i, p in enumerate(paragraphs)]
    return "squad", None, None, _local(passages, ref)


def _local(passages: list[Passage], ref: DocumentRef) -> list[Passage]:
    """Passages whose ids the file gave (or the report layout made): each prefixed with the document's id."""
    return [replace(p, id=f"{ref.id}:{p.id}", document=ref) for p in passages]


def _first_line(text: str) -> str | None:
    line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    return line if len(line) <= 80 else None


def load_corpus(path: Path) -> list[Passage]:
    """The passages of one file (a document on its own, id from its file name)."""
    return read_document(path)[1]
