"""What every format's reader produces, and how it becomes passages: a document is a list of blocks (paragraphs and
headings, each with the page it starts on), and one set of rules turns blocks into citable passages for every
format, so a paragraph is cited the same way from a PDF, a Word file, a web page or Markdown.

- A heading is not a passage: it becomes the `section` of the paragraphs under it.
- A document that numbers its paragraphs ("121. …", as the UN report does) is cited by those numbers, and the
  number is not part of the passage text (as in the report's text layout); otherwise a paragraph's number is its
  ordinal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from qa.types import DocumentRef, Passage

# a paragraph number at a block's start: "121." or "121．" then text (not "2.31億", not "2022年"); "7.2022年…"
# (a number, then a year) is paragraph 7 only where 7 is the next number expected
NUMBERED = re.compile(r"^(\d{1,4})[.．](?!\d)\s*(?=\S)")
_NUMBER_THEN_DIGITS = re.compile(r"^(\d{1,4})[.．](?=\d)")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
SENTENCE_END = "。！？!?.;；:：」』”’)）》"
TABLE_CHARS = 600  # rows of a table grouped into passages of about this size


@dataclass
class Block:
    """A paragraph or heading as a reader found it; `page_starts` are offsets in `text` where later pages begin."""

    text: str
    kind: str = "paragraph"  # or "heading"
    page: int | None = None
    page_starts: tuple[int, ...] = ()
    box: str | None = None  # a table's caption or a sidebar's title, when the format says
    level: float | None = None  # a heading's rank: 1 for the top (h1, # or Heading 1), deeper ones higher


def table_blocks(rows: list[str], caption: str | None = None) -> list[Block]:
    """A table's rows (cells joined by " | "), grouped into passages of about TABLE_CHARS, each row whole."""
    blocks: list[Block] = []
    group: list[str] = []
    for row in rows:
        if group and sum(len(r) + 1 for r in group) + len(row) > TABLE_CHARS:
            blocks.append(Block("\n".join(group), box=caption))
            group = []
        group.append(row)
    if group:
        blocks.append(Block("\n".join(group), box=caption))
    return blocks


def is_cjk(ch: str) -> bool:
    return bool(_CJK.match(ch))


def join_lines(before: str, after: str, cjk_document: bool) -> str:
    """Two lines of one paragraph, as the text ran before the page width broke it: Chinese runs on without a space
    (so does a number or word broken in a Chinese document), English words get their space back, and a word
    hyphenated at the line's end is whole again ("inter-" + "national")."""
    if not before or not after:
        return before + after
    if before[-1].isspace() or after[0].isspace():
        return before + after
    if before[-1] == "-" and len(before) > 1 and before[-2].isalpha() and after[0].islower():
        return before[:-1] + after
    if is_cjk(before[-1]) or is_cjk(after[0]) or cjk_document:
        return before + after
    return f"{before} {after}"


def mostly_cjk(text: str) -> bool:
    letters = [c for c in text[:20000] if not c.isspace()]
    return bool(letters) and sum(1 for c in letters if is_cjk(c)) > 0.3 * len(letters)


def paragraph_number(text: str, expected: int | None) -> re.Match | None:
    """The paragraph number at the start of `text`, as a match whose end is where the text begins."""
    match = NUMBERED.match(text)
    if match is None and expected is not None:
        match = _NUMBER_THEN_DIGITS.match(text)
        if match and int(match.group(1)) != expected:
            match = None
    return match


def _numbers(blocks: list[Block]) -> list[int]:
    numbers: list[int] = []
    for block in blocks:
        if block.kind == "paragraph" and (m := paragraph_number(block.text.strip(), numbers[-1] + 1 if numbers else 1)):
            numbers.append(int(m.group(1)))
    return numbers


def _numbered(blocks: list[Block]) -> bool:
    """Whether the document numbers its paragraphs: at least 3 numbered paragraphs, a third of them all, and the
    numbers mostly rising by one (a numbered list that restarts is not paragraph numbering)."""
    numbers = _numbers(blocks)
    paragraphs = sum(1 for b in blocks if b.kind == "paragraph")
    if len(numbers) < 3 or len(numbers) < 0.3 * paragraphs:
        return False
    rising = sum(1 for a, b in zip(numbers, numbers[1:]) if b == a + 1)
    return rising >= 0.8 * (len(numbers) - 1) and len(set(numbers)) == len(numbers)


def passages_from_blocks(blocks: list[Block], document: DocumentRef) -> list[Passage]:
    """Passages of a document's blocks in order, ids "<document id>:p<N>" (numbered or ordinal paragraphs) or
    ":u<N>" (an unnumbered paragraph of a numbered document).

    A heading over a paragraph starts a section. In a document that numbers its paragraphs, a heading deeper than
    its section's over unnumbered paragraphs, once the numbering has begun, is a box's title (a sidebar, as the
    report's boxes): they are that box and stay in the section around them."""
    numbered = _numbered(blocks)
    passages: list[Passage] = []
    section = heading = box = None  # heading: one not yet followed by a paragraph
    section_level = level = None
    ordinal = unnumbered = last = 0
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        if block.kind == "heading":
            heading, level = text, block.level
            continue
        starts = tuple(s - (len(block.text) - len(block.text.lstrip())) for s in block.page_starts)
        match = paragraph_number(text, last + 1) if numbered else None
        if match:
            paragraph, local = int(match.group(1)), f"p{match.group(1)}"
            last, box = paragraph, None
            text, starts = text[match.end():], tuple(max(0, s - match.end()) for s in starts)
        elif numbered:
            unnumbered += 1
            paragraph, local = None, f"u{unnumbered}"
            deeper = level is None or section_level is None or level > section_level
            if heading and last and deeper:
                box, heading = heading, None
        else:
            ordinal += 1
            paragraph, local = ordinal, f"p{ordinal}"
        if heading:
            section, section_level, heading = heading, level, None
        passages.append(Passage(
            id=f"{document.id}:{local}", text=text, order=len(passages), paragraph=paragraph,
            box=block.box or (box if paragraph is None else None), section=section, document=document,
            page=block.page, page_starts=tuple(s for s in starts if 0 < s < len(text)),
        ))
    return _unique_ids(passages)


def _unique_ids(passages: list[Passage]) -> list[Passage]:
    """A document that numbers a paragraph twice (a misprint) still gets one id per passage."""
    seen: dict[str, int] = {}
    out = []
    for p in passages:
        count = seen.get(p.id, 0)
        seen[p.id] = count + 1
        out.append(p if not count else replace(p, id=f"{p.id}-{count + 1}"))
    return out
