"""The document readers on real files made by real tools (tests/made_documents.py): the bundled report printed to PDF
by Chromium, written to Word, wrapped in a web page's boilerplate and written as Markdown must give the same numbered
paragraphs as the text file; pages must be the ones poppler's pdftotext finds them on; no header, footer or
boilerplate becomes a passage; bad files fail with one line naming the file and the reason."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from bench.made_documents import (
    BOILERPLATE,
    DRCD,
    articles_docx,
    articles_html,
    chromium,
    pdftotext_pages,
    print_pdf,
    report_docx,
    report_html,
    report_markdown,
    report_passages,
)
from qa.documents.errors import CorpusError
from qa.documents.glyphs import repair
from qa.documents.load import Limits, detect_format, read_document

needs_chromium = pytest.mark.skipif(chromium() is None, reason="prints PDFs with Chromium (CI installs it)")
needs_drcd = pytest.mark.skipif(not DRCD.is_file(), reason="DRCD articles come from ../shared/data/mrc")
NUMBERED = {p.paragraph: p.text for p in report_passages() if p.paragraph}


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory):
    if chromium() is None:
        pytest.skip("Chromium prints the PDF")
    return print_pdf(report_html(with_boilerplate=False), tmp_path_factory.mktemp("pdf") / "report.pdf")


def numbered(passages) -> dict[int, str]:
    return {p.paragraph: p.text for p in passages if p.paragraph}


@needs_chromium
def test_a_chromium_printed_pdf_gives_the_text_files_paragraphs_on_the_right_pages(report_pdf):
    document, passages = read_document(report_pdf)
    assert document.format == "pdf" and document.pages >= 15 and document.title == "秘書長關於本組織工作的報告"
    assert numbered(passages) == NUMBERED  # every numbered paragraph, verbatim, across page breaks
    pages = pdftotext_pages(report_pdf)
    if pages is None:
        pytest.skip("poppler's pdftotext checks the pages")
    for p in passages:  # where each paragraph starts and (for one crossing a break) where it goes on
        assert "".join(p.text[:12].split()) in pages[p.page - 1], (p.id, p.page)
        for start in p.page_starts:
            assert "".join(p.text[start:start + 8].split()) in pages[p.page_at(start) - 1], (p.id, start)
    assert any(p.page_starts for p in passages)  # the report has paragraphs that run over a page


@needs_chromium
def test_no_running_header_footer_or_page_number_becomes_a_passage(report_pdf):
    _, passages = read_document(report_pdf)
    for p in passages:
        assert "file://" not in p.text and not p.text.strip().isdigit()
        assert not any(f"{n}/{len(passages)}" in p.text for n in range(1, 4))
    assert sum("秘書長關於本組織工作的報告" == p.text for p in passages) == 0  # the title repeated in each header


@needs_chromium
@needs_drcd
def test_a_two_column_pdf_keeps_each_columns_paragraphs_whole(tmp_path):
    from bench.made_documents import drcd_articles

    articles = drcd_articles(0, 3)
    pdf = print_pdf(articles_html(articles, "DRCD", columns=2), tmp_path / "drcd.pdf")
    document, passages = read_document(pdf)
    assert [p.text for p in passages] == [text for a in articles for text in a["paragraphs"]]
    assert [p.section for p in passages][:1] == [articles[0]["title"]] and document.pages >= 2


def test_word_gives_the_text_files_paragraphs_headings_as_sections_and_table_rows(tmp_path):
    document, passages = read_document(report_docx(tmp_path / "report.docx"))
    assert document.format == "docx" and document.title == "秘書長關於本組織工作的報告" and document.pages is None
    assert numbered(passages) == NUMBERED
    assert next(p for p in passages if p.paragraph == 119).section == "E. 有效協調人道主義援助"
    assert passages[-1].text == "年份 | 2022\n人道主義援助 | 2.16億人\n國家和地區 | 69"


def test_a_web_page_gives_its_main_content_only(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(report_html(with_boilerplate=True), encoding="utf-8")
    document, passages = read_document(page)
    assert document.format == "html" and numbered(passages) == NUMBERED
    assert not [p.text for p in passages if any(word in p.text for word in BOILERPLATE)]
    assert next(p for p in passages if p.paragraph == 1).section == "第一章 導言"


def test_a_page_without_main_or_article_drops_menus_by_link_density(tmp_path):
    page = tmp_path / "plain.html"
    page.write_text("""<html><body><div class="top"><a href="/">首頁</a> | <a href="/x">新聞</a> | <a href="/y">聯絡</a>
</div>
<div><p>跨河大橋於2021年動工,<b>預計</b>明年通車。</p><p>新學校在九月<br>開學。</p></div>
<div id="footer-links"><a href="/p">隱私</a></div></body></html>""", encoding="utf-8")
    assert [p.text for p in read_document(page)[1]] == ["跨河大橋於2021年動工,預計明年通車。", "新學校在九月\n開學。"]


def test_markdown_headings_paragraphs_lists_and_soft_breaks(tmp_path):
    md = tmp_path / "notes.md"
    md.write_text(report_markdown() + "\n## 附錄\n\n- 第一項**重點**內容\n- item [two](http://x) here\n\n"
                  "English text that\nwraps over lines.\n\n```\ncode is left out\n```\n", encoding="utf-8")
    document, passages = read_document(md)
    assert document.format == "markdown" and numbered(passages) == NUMBERED
    tail = [p.text for p in passages if p.paragraph is None]
    assert tail == ["第一項重點內容", "item two here", "English text that wraps over lines."]
    assert passages[-1].section == "附錄"


def test_documents_with_their_own_ids_and_ordinals(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("第一段。\n\n第二段。\n", encoding="utf-8")
    document, passages = read_document(text, "sub/notes.txt")
    assert document.id == "sub-notes" and [(p.id, p.paragraph) for p in passages] == [("sub-notes:p1", 1),
                                                                                     ("sub-notes:p2", 2)]
    assert passages[0].document.file == "sub/notes.txt"


def test_radicals_in_a_text_layer_are_mapped_back_to_ideographs():
    assert repair("⺠主⽀持⻅面ﬁne") == "民主支持见面fine"
    assert repair("民主") == "民主"


# ---- bad input: one line naming the file and the reason -------------------------------------------------------


def encrypted_pdf(report_pdf, out):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(report_pdf)))
    writer.encrypt("secret")
    writer.write(str(out))
    return out


@needs_chromium
def test_an_encrypted_pdf_is_refused(report_pdf, tmp_path):
    pytest.importorskip("pypdf")
    with pytest.raises(CorpusError, match=r"locked.pdf: the PDF is encrypted"):
        read_document(encrypted_pdf(report_pdf, tmp_path / "locked.pdf"))


def image_pdf(out, text: str | None):
    """A scanned page: an image (with `text` drawn in a CJK font when given) saved as a PDF by Pillow."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1240, 600), "white")
    if text:
        fonts = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                 "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
        font_path = next((p for p in fonts if Path(p).exists()), None)
        if font_path is None:
            pytest.skip("needs a CJK font (fonts-noto-cjk) to draw the scanned text")
        ImageDraw.Draw(image).text((60, 200), text, fill="black", font=ImageFont.truetype(font_path, 56))
    image.save(out, "PDF", resolution=150)
    return out


def test_a_pdf_without_a_text_layer_names_tesseract_when_it_is_missing(tmp_path, monkeypatch):
    import qa.documents.pdf as pdf

    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    with pytest.raises(CorpusError, match="scan.pdf: has no text layer .*install Tesseract"):
        read_document(image_pdf(tmp_path / "scan.pdf", "跨河大橋於2021年動工"))


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="OCR needs Tesseract (tesseract-ocr, -chi-tra)")
def test_a_scanned_page_is_read_by_ocr(tmp_path):
    document, passages = read_document(image_pdf(tmp_path / "scan.pdf", "跨河大橋於2021年動工"))
    assert document.pages == 1 and "".join(p.text for p in passages).replace(" ", "") == "跨河大橋於2021年動工"
    assert passages[0].page == 1


def test_damaged_word_files_and_decompression_bombs_are_refused(tmp_path):
    bad = tmp_path / "bad.docx"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>not closed")
    with pytest.raises(CorpusError, match="bad.docx: not a readable Word document|bad.docx: a damaged Word"):
        read_document(bad)
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "")
        archive.writestr("word/media/huge.bin", b"\0" * (600 * 1024 * 1024))
    assert bomb.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(CorpusError, match="bomb.docx: unpacks to 600 MB .* decompression bomb"):
        read_document(bomb)
    truncated = tmp_path / "cut.docx"
    report = report_docx(tmp_path / "whole.docx").read_bytes()
    truncated.write_bytes(report[: len(report) // 2])
    with pytest.raises(CorpusError, match="cut.docx: a damaged"):
        read_document(truncated)


def test_unknown_types_and_files_over_the_size_limit_are_refused(tmp_path):
    png = tmp_path / "photo.png"
    buffer = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    png.write_bytes(buffer.getvalue())
    with pytest.raises(CorpusError, match="photo.png: a PNG image, which is not a supported document type"):
        read_document(png)
    sheet = tmp_path / "sheet.xlsx"
    with zipfile.ZipFile(sheet, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(CorpusError, match="sheet.xlsx: a spreadsheet"):
        read_document(sheet)
    big = tmp_path / "big.txt"
    big.write_text("大" * 400_000, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"big.txt: 1 MB; the limit is 0.5 MB \(QA_MAX_DOCUMENT_MB\)"):
        read_document(big, limits=Limits(max_mb=0.5))


def test_formats_are_chosen_by_content_not_by_extension(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text("<!doctype html><html><body><p>內容</p></body></html>", encoding="utf-8")
    word = tmp_path / "word.bin"
    articles_docx([{"title": "T", "paragraphs": ["一段。"]}], "T", word)
    assert (detect_format(page), detect_format(word)) == ("html", "docx")


@needs_chromium
def test_a_character_outside_the_bmp_keeps_the_text_after_it_in_place(tmp_path):
    """PDFium counts 𫚭 (U+2A6AD) as two characters: read naively, every character after it takes the next one's box
    and a two-column page comes out scrambled."""
    paragraphs = ["蓝线裸顶鲷,又称蓝线白𫚭,俗名龙尖,为辐鳍鱼纲鲈形目龙占鱼科的其中一个种。" * 3,
                  "黄鳍紫鱼,又称黄鳍姬鲷,俗名散午,为辐鳍鱼纲鲈形目笛鲷科的其中一个种。" * 3]
    page = articles_html([{"title": "海洋鱼类", "paragraphs": paragraphs}], "鱼", columns=2)
    pdf = print_pdf(page, tmp_path / "f.pdf")
    assert [p.text for p in read_document(pdf)[1]] == paragraphs


def test_a_pages_byline_is_boilerplate_and_a_no_break_space_is_text(tmp_path):
    page = tmp_path / "a.html"
    page.write_text('<html><body><article><h1>四氟化碳</h1><div class="meta">作者:编辑部 · 阅读约 8 分钟</div>'
                    "<p>零下198&nbsp;°C时,四氟化碳具有单斜的结构。</p></article></body></html>", encoding="utf-8")
    assert [p.text for p in read_document(page)[1]] == ["零下198\xa0°C时,四氟化碳具有单斜的结构。"]
