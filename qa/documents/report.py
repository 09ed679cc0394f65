"""The UN report layout: numbered paragraphs `N.text` under chapters and lettered sections, boxed sidebars
(a title line ending in a space, then indented lines) and the footnotes listed after the licence."""

from __future__ import annotations

import re
from pathlib import Path

from qa.documents.errors import CorpusError
from qa.types import Passage

PARAGRAPH = re.compile(r"^(\d{1,4})\.(\S.*)$")
_SECTION = re.compile(r"^([A-H])\.\s*(\S.*)$")
_CHAPTER = re.compile(r"^第[一二三四五六七八九十]+章$")
_FOOTNOTE = re.compile(r"^ {2}(\d+)\.\s*(\S.*)$")
_SKIP = {"編輯", "编辑"}
_LICENCE_START = "本作品來自聯合國官方文件"


def is_report_layout(text: str) -> bool:
    """A chapter heading (第一章) on its own line and numbered paragraphs (`12.text` at a line's start) mark it."""
    lines = text.split("\n")
    return any(_CHAPTER.match(line.strip()) for line in lines) and any(PARAGRAPH.match(line) for line in lines)


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
        para = PARAGRAPH.match(line)
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
