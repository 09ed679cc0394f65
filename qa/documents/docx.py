"""Word documents (.docx, read with python-docx): paragraphs in body order, headings (the Title and Heading
styles, or an outline level) as sections, tables as rows of cells, in the order they stand. A corrupt file or a
ZIP that would unpack to far more than it weighs (a decompression bomb) is refused before it is parsed."""

from __future__ import annotations

import zipfile
from pathlib import Path

from qa.documents.blocks import Block, table_blocks
from qa.documents.errors import CorpusError

MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed: text compresses ~5-20x, a bomb by thousands


def check_zip(path: Path) -> None:
    """Refuse a ZIP that is not one, or that unpacks to more than MAX_UNPACKED_BYTES or MAX_RATIO times itself."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorpusError(f"{path}: a damaged Office file (not a readable ZIP archive)") from exc
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_RATIO * packed and unpacked > 10 * 1024 * 1024:
        raise CorpusError(f"{path}: unpacks to {unpacked // (1024 * 1024)} MB from {packed // 1024} KB; "
                          "refused as a decompression bomb")


def read_docx(path: Path) -> tuple[str | None, list[Block]]:
    """(the document's title, its blocks)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_zip(path)
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise CorpusError(f"{path}: not a readable Word document ({type(exc).__name__})") from exc
    except Exception as exc:  # lxml's XMLSyntaxError and the like: the XML inside is damaged
        raise CorpusError(f"{path}: a damaged Word document ({exc.__class__.__name__}: {exc})") from exc
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            level = _heading_level(item)
            if text:
                blocks.append(Block(text, "heading", level=level) if level is not None else Block(text))
        elif isinstance(item, Table):
            _table(item, blocks)
    title = (document.core_properties.title or "").strip() or None
    return title, blocks


def _heading_level(paragraph) -> float | None:
    """The Title style is 0, "Heading N" N, a paragraph with an outline level that level + 1; None for body text."""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return 0
    if style.startswith("Heading"):
        number = style.removeprefix("Heading").strip()
        return int(number) if number.isdigit() else 1
    outline = paragraph._p.find(".//{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl")
    if outline is None:
        return None
    value = outline.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val", "0")
    return int(value) + 1 if value.isdigit() else 1


def _table(table, blocks: list[Block]) -> None:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if not cells or text != cells[-1]:  # python-docx repeats a merged cell in each column it spans
                cells.append(text)
        if any(cells):
            rows.append(" | ".join(cells))
    blocks += table_blocks(rows)
