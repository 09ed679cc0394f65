"""Turning a document into passages: the format chosen by content, then its reader.

Three inputs are understood:
- the UN report layout (numbered paragraphs `N.text`, boxed sidebars, footnotes), the bundled corpus;
- SQuAD-format JSON (DRCD, CMRC 2018): each paragraph becomes a passage with the paragraph's id;
- JSONL, one `{"id": ..., "text": ..., "section"?: ..., "paragraph"?: ...}` object a line.
A plain text file without numbered paragraphs is split on blank lines.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from qa.documents.errors import CorpusError
from qa.documents.records import parse_jsonl, parse_plain_text
from qa.documents.report import is_report_layout, parse_report
from qa.documents.squad import SquadFormatError, is_squad_json, read_squad
from qa.types import Passage

BUNDLED_CORPUS = Path(__file__).resolve().parents[2] / "data" / "un-sg-report-2023.zh-Hant.txt"


def corpus_checksum(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_corpus(path: Path) -> list[Passage]:
    """Passages of any supported file, chosen by content (and extension for JSONL)."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise CorpusError(f"{path}: the file is empty")
    stripped = text.lstrip()
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return parse_jsonl(text, path)
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return parse_jsonl(text, path)  # several objects: JSON lines without the extension
        if not is_squad_json(data):
            raise CorpusError(f"{path}: JSON but neither SQuAD format (a 'data' list) nor JSON lines")
        try:
            paragraphs, _ = read_squad(path)
        except SquadFormatError as exc:
            raise CorpusError(str(exc)) from exc
        return [Passage(id=p.id, text=p.context, order=i, section=p.title or None) for i, p in enumerate(paragraphs)]
    if stripped.startswith("["):
        raise CorpusError(f"{path}: a JSON array is not supported; use JSON lines or SQuAD format")
    if is_report_layout(text):
        return parse_report(text, path)
    return parse_plain_text(text)
