"""PDF: the text layer, page by page, read with PDFium (pypdfium2: the engine of Chrome's viewer; pypdf and
pdfplumber returned Kangxi radicals for many ideographs of a Chromium-printed Traditional Chinese page, PDFium the
right ones), then the layout repaired into paragraphs:

- lines come with their boxes; PDFium gives a multi-column page column by column;
- running headers and footers (a line at a page's top or bottom that recurs across pages, digits aside), page
  numbers and a browser's print stamps (date and time, file URL with "n/m") are dropped;
- a paragraph ends where the vertical gap grows, a line stops short after a full stop, the next line is indented or
  set in a larger font (a heading); lines of one paragraph are joined as the text ran (`blocks.join_lines`);
- a paragraph that runs over a page (or column) break is kept whole and remembers where each page begins;
- a page with no text layer is read by Tesseract OCR when it is installed (Traditional and Simplified Chinese,
  English), else reported.
"""

from __future__ import annotations

import logging
import re
import shutil
import statistics
from dataclasses import dataclass
from pathlib import Path

from qa.documents.blocks import NUMBERED, SENTENCE_END, Block, join_lines, mostly_cjk
from qa.documents.errors import CorpusError
from qa.documents.glyphs import repair

log = logging.getLogger(__name__)

EDGE_LINES = 2  # lines at a page's top and at its bottom that may be running headers or footers
OCR_LANGUAGES = "chi_tra+chi_sim+eng"
OCR_DPI = 300
_PAGE_NUMBER = re.compile(r"^[\W_]*(?:page|p\.|第)?\s*\d{1,4}\s*(?:/\s*\d{1,4}|of\s+\d{1,4}|頁|页)?[\W_]*$", re.I)
_PRINT_STAMP = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4},?\s+\d{1,2}:\d{2}|^(?:file|https?)://\S+\s+\d+\s*/\s*\d+$")
_BULLET = re.compile(r"^(?:[•·▪‣◦\-–*]|\(?[a-zA-Z0-9]{1,3}[.)）])\s")


@dataclass
class Line:
    text: str
    x0: float
    y0: float  # bottom (PDF coordinates grow upwards)
    x1: float
    y1: float  # top
    page: int
    size: float = 0.0  # the font size most of its glyphs are set in (0: unknown, as for OCR)

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass
class PdfText:
    title: str | None
    pages: int
    blocks: list[Block]
    ocr_pages: int


def read_pdf(path: Path, max_pages: int) -> PdfText:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        reason = str(exc).lower()
        if "password" in reason:
            raise CorpusError(f"{path}: the PDF is encrypted (password protected); save an unprotected copy") from exc
        raise CorpusError(f"{path}: not a readable PDF ({exc})") from exc
    try:
        count = len(pdf)
        if count > max_pages:
            raise CorpusError(f"{path}: {count} pages; the limit is {max_pages} (QA_MAX_DOCUMENT_PAGES)")
        title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
        pages, ocr_pages, empty = [], 0, []
        for number in range(1, count + 1):
            page = pdf[number - 1]
            try:
                lines = _page_lines(page, number)
                if not lines:
                    lines = _ocr_lines(page, number)
                    ocr_pages += bool(lines)
                if not lines:
                    empty.append(number)
                pages.append(lines)
            finally:
                page.close()
    finally:
        pdf.close()
    if empty and not shutil.which("tesseract"):
        where = "has no text layer" if len(empty) == count else f"pages {_ranges(empty)} have no text layer"
        message = (f"{path}: {where} (scanned?); install Tesseract OCR to read it "
                   "(README, 'Your own documents')")
        if len(empty) == count:
            raise CorpusError(message)
        log.warning("%s: they are skipped", message)
    if not any(pages):
        raise CorpusError(f"{path}: no text found on any of its {count} pages")
    return PdfText(title, count, _blocks(_without_furniture(pages)), ocr_pages)


def _ranges(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:10])) + (" …" if len(numbers) > 10 else "")


@dataclass
class _Char:
    text: str
    box: tuple[float, float, float, float]
    generated: bool  # a space PDFium inferred from a gap, not one the PDF holds
    size: float


def _page_chars(textpage) -> list[_Char]:
    """The page's characters by PDFium's index, a character outside the BMP whole (PDFium counts its two UTF-16
    halves as two characters, so its text and its character indices do not line up one to one)."""
    import pypdfium2.raw as pdfium_c

    raw, chars = textpage.raw, []
    count = pdfium_c.FPDFText_CountChars(raw)
    i = 0
    while i < count:
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        step = 1
        if 0xD800 <= code < 0xDC00 and i + 1 < count:  # a surrogate pair: one character
            low = pdfium_c.FPDFText_GetUnicode(raw, i + 1)
            code, step = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00), 2
        text = chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else ""
        box = textpage.get_charbox(i)
        chars.append(_Char(text, box, text == " " and bool(pdfium_c.FPDFText_IsGenerated(raw, i)),
                           pdfium_c.FPDFText_GetFontSize(raw, i)))
        i += step
    return chars


def _page_lines(page, number: int) -> list[Line]:
    """The page's text lines with their boxes and font size, in PDFium's reading order."""
    textpage = page.get_textpage()
    try:
        chars = _page_chars(textpage)
    finally:
        textpage.close()
    lines: list[Line] = []
    run: list[_Char] = []
    for char in [*chars, _Char("\n", (0, 0, 0, 0), False, 0.0)]:
        if char.text not in ("\r", "\n"):
            run.append(char)
            continue
        boxes = [c.box for c in run if c.box[2] > c.box[0] and c.box[3] > c.box[1]]
        content = repair(_in_x_order(run)).strip()
        if boxes and content:
            sizes = [c.size for c in run if c.text.strip()]
            lines.append(Line(content, min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                              max(b[3] for b in boxes), number, statistics.median(sizes) if sizes else 0.0))
        run = []
    return lines


def _in_x_order(chars: list[_Char]) -> str:
    """A line's characters left to right (PDFium can give a bracket pair such as 「(《」 swapped). A space PDFium
    inferred from a gap is kept where the next glyph stands a fifth of the line's height clear of every glyph
    before it (the gap after 「(《」 is the brackets' own width, no space)."""
    chars = [c for c in chars if c.text and c.text not in "\x02\ufffe"]
    height = max((c.box[3] - c.box[1] for c in chars if not c.generated), default=0.0)
    placed: list[tuple[float, int, str]] = []  # (x, order, character)
    right = float("-inf")
    for i, c in enumerate(chars):
        if c.generated:
            after = next((d.box for d in chars[i + 1:] if not d.generated), None)
            if after is not None and after[0] - right >= 0.2 * height:
                placed.append((after[0] - 1e-3, i, c.text))
            continue
        placed.append((c.box[0], i, c.text))
        right = max(right, c.box[2])
    if any(b[0] < a[0] - 1 for a, b in zip(placed, placed[1:])):
        placed.sort()
    return "".join(c for _, _, c in placed)


def _ocr_lines(page, number: int) -> list[Line]:
    """A page without a text layer, read by Tesseract when it is installed (boxes in PDF points)."""
    if not shutil.which("tesseract"):
        return []
    import pytesseract

    scale = OCR_DPI / 72
    image = page.render(scale=scale).to_pil()
    height = image.height
    data = pytesseract.image_to_data(image, lang=OCR_LANGUAGES, output_type=pytesseract.Output.DICT)
    grouped: dict[tuple[int, int, int], list[int]] = {}
    for i, word in enumerate(data["text"]):
        if word.strip() and float(data["conf"][i]) >= 0:
            grouped.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(i)
    lines = []
    for indices in grouped.values():
        words = [data["text"][i] for i in indices]
        text = words[0]
        for word in words[1:]:  # Tesseract splits Chinese into words: no space between them, one between English
            text = join_lines(text, word, cjk_document=False)
        left = min(data["left"][i] for i in indices)
        right = max(data["left"][i] + data["width"][i] for i in indices)
        top = min(data["top"][i] for i in indices)
        bottom = max(data["top"][i] + data["height"][i] for i in indices)
        lines.append(Line(repair(text), left / scale, (height - bottom) / scale, right / scale,
                          (height - top) / scale, number))
    return lines


def _furniture_key(line: Line) -> tuple[str, int]:
    """A running header or footer recurs with other digits (a page number, a date) at the same height."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line.text)).strip(), round(line.y0 / 4)


def _edges(lines: list[Line]) -> list[Line]:
    """The lines at the page's top and bottom, by position (a browser prints its header after the body)."""
    by_height = sorted(lines, key=lambda line: -line.y1)
    return by_height[:EDGE_LINES] + by_height[-EDGE_LINES:]


def _without_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """Each page without its running header and footer, page number and print stamps."""
    seen: dict[tuple[str, int], int] = {}
    for lines in pages:
        for key in {_furniture_key(line) for line in _edges(lines)}:
            seen[key] = seen.get(key, 0) + 1
    with_text = sum(1 for lines in pages if lines)
    recurring = {key for key, n in seen.items() if n >= 2 and n >= 0.4 * with_text}
    out = []
    for lines in pages:
        edges = {id(line) for line in _edges(lines)}
        out.append([line for line in lines if id(line) not in edges or not (
            _furniture_key(line) in recurring or _PAGE_NUMBER.match(line.text) or _PRINT_STAMP.search(line.text))])
    return out


@dataclass
class _Layout:
    """The document's typical line: its height and the distance between lines of one paragraph."""

    height: float
    pitch: float
    char: float  # a character's typical width
    size: float  # the body's font size (0: unknown)

    @classmethod
    def of(cls, pages: list[list[Line]]) -> _Layout:
        lines = [line for page in pages for line in page]
        height = statistics.median(line.height for line in lines)
        size = statistics.median(line.size for line in lines)
        pitches = [a.y0 - b.y0 for page in pages for a, b in zip(page, page[1:])
                   if 0.5 * height < a.y0 - b.y0 < 3 * height]
        widths = [(line.x1 - line.x0) / len(line.text) for line in lines if len(line.text) >= 10]
        return cls(height, statistics.median(pitches) if pitches else 1.4 * height,
                   statistics.median(widths) if widths else height / 2, size)


def _columns(lines: list[Line], char: float) -> dict[int, tuple[float, float]]:
    """Per line: the left and right edges of its column (lines starting near the same x share one)."""
    starts = sorted({round(line.x0 / (2 * char)) for line in lines})
    edges: dict[int, tuple[float, float]] = {}
    for start in starts:
        members = [line for line in lines if abs(round(line.x0 / (2 * char)) - start) <= 1]
        rights = sorted(line.x1 for line in members)
        right = rights[int(0.9 * (len(rights) - 1))]
        for line in members:
            edges.setdefault(id(line), (min(m.x0 for m in members), right))
    return edges


def _blocks(pages: list[list[Line]]) -> list[Block]:
    lines = [line for page in pages for line in page]
    if not lines:
        return []
    layout = _Layout.of(pages)
    cjk = mostly_cjk("".join(line.text for line in lines[:400]))
    edges = _columns(lines, layout.char)
    blocks: list[Block] = []
    current: list[Line] = []

    def close() -> None:
        if current:
            blocks.append(_block(current, layout, cjk))
            current.clear()

    for line in lines:
        if current and _breaks(current[-1], line, layout, edges):
            close()
        current.append(line)
    close()
    return blocks


def _is_heading(line: Line, layout: _Layout) -> bool:
    """Set in a larger font than the body (HTML's smallest larger heading, h3, is 1.17 times the text), by the
    font size where the PDF says it, else by the glyphs' height."""
    larger = line.size > 1.1 * layout.size if line.size and layout.size else line.height > 1.15 * layout.height
    return larger and len(line.text) <= 80


def _full(line: Line, edges: dict[int, tuple[float, float]], layout: _Layout) -> bool:
    """Whether a line runs (nearly) to its column's right edge: the paragraph goes on after it."""
    left, right = edges[id(line)]
    return line.x1 >= right - max(3 * layout.char, 0.2 * (right - left))


def _breaks(prev: Line, line: Line, layout: _Layout, edges: dict[int, tuple[float, float]]) -> bool:
    """Whether `line` starts a new block after `prev`."""
    if _is_heading(prev, layout) != _is_heading(line, layout):
        return True
    if _is_heading(line, layout):  # a heading over two lines stays one
        return not (line.page == prev.page and 0 < prev.y0 - line.y0 < 1.6 * line.height)
    ended = prev.text[-1] in SENTENCE_END
    if (ended and (NUMBERED.match(line.text) or _BULLET.match(line.text))) or (
            ended and not _full(prev, edges, layout)):
        return True
    pitch = prev.y0 - line.y0
    if line.page != prev.page or pitch < 0.5 * layout.height or pitch > 3 * layout.pitch:
        # a page or column break: the paragraph goes on if its last line ran full and did not end a sentence
        return ended or not _full(prev, edges, layout)
    if pitch > 1.3 * layout.pitch + 1:
        return True
    left, _ = edges[id(line)]
    indented = line.x0 > left + 1.5 * layout.char and prev.x0 <= left + 0.5 * layout.char
    return indented or not _full(prev, edges, layout) and ended


def _block(lines: list[Line], layout: _Layout, cjk: bool) -> Block:
    kind = "heading" if _is_heading(lines[0], layout) else "paragraph"
    level = -lines[0].size if kind == "heading" and lines[0].size else None  # larger type, higher rank
    text, starts = "", []
    for i, line in enumerate(lines):
        if i and line.page != lines[i - 1].page:
            starts.append(len(text))
        text = join_lines(text, line.text, cjk) if text else line.text
    if kind == "heading" and not cjk:
        text = " ".join(text.split())
    return Block(text, kind, lines[0].page, tuple(starts), level=level)
