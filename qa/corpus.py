"""Turning a document into passages.

Three inputs are understood:
- the UN report layout (numbered paragraphs `N.text`, boxed sidebars, footnotes), the bundled corpus;
- SQuAD-format JSON (DRCD, CMRC 2018): each paragraph becomes a passage with the paragraph's id;
- JSONL, one `{"id": ..., "text": ..., "section"?: ..., "paragraph"?: ...}` object a line.
A plain text file without numbered paragraphs is split on blank lines.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from qa.squad import SquadFormatError, is_squad_json, read_squad
from qa.types import Passage

BUNDLED_CORPUS = Path(__file__).resolve().parent.parent / "data" / "un-sg-report-2023.zh-Hant.txt"


class CorpusError(ValueError):
    """The document can't be read; the message names the file (and line) and what is wrong."""


_PARAGRAPH = re.compile(r"^(\d{1,4})\.(\S.*)$")
_SECTION = re.compile(r"^([A-H])\.\s*(\S.*)$")
_CHAPTER = re.compile(r"^第[一二三四五六七八九十]+章$")
_FOOTNOTE = re.compile(r"^ {2}(\d+)\.\s*(\S.*)$")
_FOOTNOTE_MARK = re.compile(r"\[(\d+)\]")
_SKIP = {"編輯", "编辑"}
_LICENCE_START = "本作品來自聯合國官方文件"


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
    if any(_PARAGRAPH.match(line) for line in text.split("\n")):
        return parse_report(text, path)
    return parse_plain_text(text)


def parse_report(text: str, path: Path | str = "<report>") -> list[Passage]:
    """The report layout: see data/README.md for the traps this handles."""
    lines = text.split("\n")
    passages: list[Passage] = []
    chapter = section = heading = None
    expecting_chapter_title = False
    last_paragraph: int | None = None
    started = in_licence = False
    box_count = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip().replace("\xa0", "")
        i += 1
        if not started:
            started = bool(_CHAPTER.match(stripped))
            if not started:
                continue
        if not stripped or stripped in _SKIP:
            continue
        if stripped.startswith(_LICENCE_START):
            in_licence = True
            continue
        if in_licence:
            note = _FOOTNOTE.match(line)
            # the footnotes are the indented list after the licence's "Public domain" line
            if note and _after_public_domain(lines, i - 1):
                number = int(note.group(1))
                passages.append(
                    Passage(
                        id=f"fn{number}",
                        text=note.group(2),
                        order=len(passages),
                        section="註釋",
                        after=_footnote_anchor(passages, number),
                    )
                )
            continue
        if _CHAPTER.match(stripped):
            chapter, section, heading = stripped, None, None
            expecting_chapter_title = True
            continue
        para = _PARAGRAPH.match(line)
        if para:
            number = int(para.group(1))
            expected = (last_paragraph or 0) + 1
            if number != expected:
                raise CorpusError(f"{path}:{i}: paragraph {number} where {expected} was expected")
            last_paragraph = number
            passages.append(
                Passage(
                    id=f"p{number}",
                    text=para.group(2),
                    order=len(passages),
                    paragraph=number,
                    section=section or chapter,
                    heading=heading,
                )
            )
            continue
        if line.endswith(" ") and i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
            title = line.rstrip()
            body = []
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                body.append(lines[i].strip())
                i += 1
            box_count += 1
            passages.append(
                Passage(
                    id=f"box-{box_count}",
                    text="\n".join(body),
                    order=len(passages),
                    box=title,
                    section=section or chapter,
                    heading=heading,
                    after=last_paragraph,
                )
            )
            continue
        if expecting_chapter_title:
            chapter = f"{chapter} {stripped}"
            expecting_chapter_title = False
            continue
        sec = _SECTION.match(stripped)
        if sec:
            section, heading = f"{sec.group(1)}. {sec.group(2)}", None
            continue
        heading = stripped
    if not any(p.paragraph for p in passages):
        raise CorpusError(f"{path}: no numbered paragraphs after a chapter heading (第一章)")
    return passages


def _after_public_domain(lines: list[str], index: int) -> bool:
    """True when the indented list at `index` follows the licence's closing 'Public domain' line."""
    j = index - 1
    while j >= 0 and (_FOOTNOTE.match(lines[j]) or not lines[j].strip()):
        j -= 1
    return j >= 0 and "Public domain" in lines[j]


def _footnote_anchor(passages: list[Passage], number: int) -> int | None:
    mark = f"[{number}]"
    return next((p.paragraph for p in passages if p.paragraph and mark in p.text), None)


def parse_jsonl(text: str, path: Path | str) -> list[Passage]:
    passages: list[Passage] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
            raise CorpusError(f'{path}:{lineno}: each line needs an object with a non-empty "text" string')
        pid = str(obj.get("id", f"line-{lineno}"))
        if pid in seen:
            raise CorpusError(f"{path}:{lineno}: duplicate id {pid!r}")
        seen.add(pid)
        paragraph = obj.get("paragraph")
        if paragraph is not None and not isinstance(paragraph, int):
            raise CorpusError(f'{path}:{lineno}: "paragraph" must be an integer')
        passages.append(
            Passage(
                id=pid,
                text=obj["text"],
                order=len(passages),
                paragraph=paragraph,
                box=obj.get("box"),
                section=obj.get("section") or obj.get("title"),
                heading=obj.get("heading"),
            )
        )
    if not passages:
        raise CorpusError(f"{path}: no passages found")
    return passages


def parse_plain_text(text: str) -> list[Passage]:
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return [Passage(id=f"p{i}", text=b, order=i - 1, paragraph=i) for i, b in enumerate(blocks, 1)]
