"""Real documents made by real tools, for the document readers' tests: the bundled report printed to PDF by
Chromium (with its default header and footer), written to Word with python-docx, as a web page with navigation,
cookie banner, sidebar, script and footer around it, and as Markdown; DRCD articles as other documents (two
columns in a PDF, a Word file, a web page). Nothing here is read back by hand: the tests compare the readers'
passages with the text the documents were made from."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from pathlib import Path

from bench.paths import SHARED
from qa.documents.load import BUNDLED_CORPUS, load_corpus

DRCD = SHARED / "mrc" / "DRCD_dev.json"
BOILERPLATE = ["首頁", "關於我們", "我們使用 Cookie", "相關文章", "版權所有", "trackPageView"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def report_passages():
    return load_corpus(BUNDLED_CORPUS)


def drcd_articles(first: int, count: int) -> list[dict]:
    """DRCD dev articles (title, paragraphs); the report's tests do without them where ../shared is absent."""
    data = json.loads(DRCD.read_text(encoding="utf-8"))["data"]
    return [{"title": a["title"], "paragraphs": [p["context"] for p in a["paragraphs"]]}
            for a in data[first:first + count]]


def report_html(with_boilerplate: bool) -> str:
    """The report as a web page: sections as <h2>, numbered paragraphs as "N.text" paragraphs, boxes as
    <div class="box"> with an <h3> title."""
    body, section = [], None
    for p in report_passages():
        if p.section != section and p.section:
            section = p.section
            body.append(f"<h2>{html.escape(section)}</h2>")
        if p.box:
            lines = "".join(f"<p>{html.escape(line)}</p>" for line in p.text.split("\n"))
            body.append(f'<div class="box"><h3>{html.escape(p.box.strip())}</h3>{lines}</div>')
        elif p.paragraph:
            body.append(f"<p>{p.paragraph}.{html.escape(p.text)}</p>")
        else:
            body.append(f"<p>{html.escape(p.text)}</p>")
    article = "<article><h1>秘書長關於本組織工作的報告</h1>" + "\n".join(body) + "</article>"
    if with_boilerplate:
        article = f"""<header class="site-header"><nav><a href="/">首頁</a> <a href="/about">關於我們</a>
<a href="/news">新聞</a> <a href="/contact">聯絡</a></nav></header>
<div id="cookie-banner">我們使用 Cookie 改善您的體驗。<button>接受</button></div>
<main>{article}</main>
<aside class="sidebar"><h3>相關文章</h3><ul><li><a href="/a">聯合國年度報告 2022</a></li>
<li><a href="/b">可持續發展目標</a></li></ul></aside>
<footer><p>版權所有 © 2023 聯合國</p><a href="/privacy">隱私權政策</a></footer>
<script>window.analytics && analytics.trackPageView();</script>"""
    return f"""<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8"><title>秘書長關於本組織工作的報告</title>
<style>body {{ font-family: "Noto Sans CJK TC", sans-serif; font-size: 12pt; line-height: 1.5; margin: 2cm; }}
p {{ margin: 0 0 0.8em; }} .box {{ border: 1px solid #888; padding: 0.5em; }}</style></head>
<body>{article}</body></html>"""


def articles_html(articles: list[dict], title: str, columns: int = 1) -> str:
    style = f"column-count: {columns}; column-gap: 1cm;" if columns > 1 else ""
    parts = [f"<h2>{html.escape(a['title'])}</h2>" + "".join(f"<p>{html.escape(p)}</p>" for p in a["paragraphs"])
             for a in articles]
    return f"""<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body {{ font-size: 11pt; margin: 1.5cm; }} .cols {{ {style} }} p {{ margin: 0 0 0.7em; }}</style></head>
<body><h1>{html.escape(title)}</h1><div class="cols">{''.join(parts)}</div></body></html>"""


def print_pdf(page: str, out: Path) -> Path:
    """`page` (HTML) printed to `out` by headless Chromium, with its default header and footer."""
    source = out.with_suffix(".html")
    source.write_text(page, encoding="utf-8")
    subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--print-to-pdf={out}", source.as_uri()], check=True,
                   capture_output=True, timeout=120)
    source.unlink()
    return out


def report_docx(out: Path) -> Path:
    """The report in Word: sections as Heading 2, numbered paragraphs, each box's title as Heading 3 and its lines
    as paragraphs, and a table of facts at the end."""
    import docx

    document = docx.Document()
    document.core_properties.title = "秘書長關於本組織工作的報告"
    document.add_heading("秘書長關於本組織工作的報告", level=1)
    section = None
    for p in report_passages():
        if p.section != section and p.section:
            section = p.section
            document.add_heading(section, level=2)
        if p.box:
            document.add_heading(p.box.strip(), level=3)
            for line in p.text.split("\n"):
                document.add_paragraph(line)
        elif p.paragraph:
            document.add_paragraph(f"{p.paragraph}.{p.text}")
        else:
            document.add_paragraph(p.text)
    table = document.add_table(rows=3, cols=2)
    for row, (key, value) in zip(table.rows, [("年份", "2022"), ("人道主義援助", "2.16億人"), ("國家和地區", "69")]):
        row.cells[0].text, row.cells[1].text = key, value
    document.save(str(out))
    return out


def articles_docx(articles: list[dict], title: str, out: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    for a in articles:
        document.add_heading(a["title"], level=2)
        for paragraph in a["paragraphs"]:
            document.add_paragraph(paragraph)
    document.save(str(out))
    return out


def report_markdown() -> str:
    lines, section = ["# 秘書長關於本組織工作的報告", ""], None
    for p in report_passages():
        if p.section != section and p.section:
            section = p.section
            lines += [f"## {p.section}", ""]
        if p.paragraph:
            lines += [f"{p.paragraph}.{p.text}", ""]
    return "\n".join(lines)


def pdftotext_pages(pdf: Path) -> list[str] | None:
    """Each page's text by poppler's pdftotext (an independent reader), whitespace removed; None without it."""
    if not shutil.which("pdftotext"):
        return None
    import pypdfium2 as pdfium

    count = len(pdfium.PdfDocument(str(pdf)))
    pages = []
    for number in range(1, count + 1):
        out = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"], check=True,
                             capture_output=True, text=True).stdout
        pages.append("".join(out.split()))
    return pages
