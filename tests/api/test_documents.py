"""Your own documents over HTTP: a collection of the report printed to PDF by Chromium and DRCD articles as Word and a
web page answers as the text file does and cites document, page and paragraph; `documents` restricts a question;
originals are served with safe headers; an admin key adds and removes documents, and a failed upload changes
nothing; `qa index FOLDER` indexes what it can read and lists the rest."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import hash_key
from bench.made_documents import (
    DRCD,
    articles_docx,
    articles_html,
    chromium,
    drcd_articles,
    pdftotext_pages,
    print_pdf,
    report_html,
)
from qa.pipeline import Pipeline
from qa.storage.collection import build_index
from qa.storage.layout import served_version

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(chromium() is None, reason="prints the report to PDF with Chromium (CI installs it)"),
              pytest.mark.skipif(not DRCD.is_file(), reason="DRCD articles come from ../shared/data/mrc")]
ADMIN = "admin-key-for-tests"
REPORT = "un-report-2023"
QUESTIONS = ["巴基斯坦的暴雨洪灾波及了多少人?", "2022年全球人口突破了哪個里程碑數字?", "聯合國維和行動有多少名人員?",
             "Where did the UN work to reduce divisive ethnic rhetoric?", "2022年,人道主義應急計劃幫助了多少人?"]


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("collection")
    print_pdf(report_html(with_boilerplate=False), folder / f"{REPORT}.pdf")
    articles = drcd_articles(0, 4)
    articles_docx(articles[:2], "DRCD 一", folder / "drcd-a.docx")
    (folder / "drcd-b.html").write_text(articles_html(articles[2:], "DRCD 二").replace(
        "<body>", '<body><nav><a href="/">首頁</a> <a href="/x">關於我們</a></nav>'), encoding="utf-8")
    return folder, articles


@pytest.fixture(scope="module")
def mine(collection, api_settings, pipeline, tmp_path_factory):
    """A pipeline over the collection, sharing the session's loaded models."""
    folder, _ = collection
    s = api_settings.model_copy(update={"index_dir": tmp_path_factory.mktemp("mine") / "ix",
                                        "admin_keys": [hash_key(ADMIN)], "max_document_mb": 1.0})
    report = build_index(s.model_copy(update={"max_document_mb": 100.0}), pipeline.embedder, paths=[folder])
    assert report.failures == [] and len(report.added) == 3
    p = Pipeline(s)
    p.embedder, p.reader = pipeline.embedder, pipeline.reader
    return p.load()


@pytest.fixture(scope="module")
def http(mine):
    with TestClient(create_app(mine.settings, mine)) as c:
        yield c


def test_answers_from_the_pdf_equal_the_text_files_and_cite_the_right_page(mine, pipeline, collection):
    folder, _ = collection
    pages = pdftotext_pages(folder / f"{REPORT}.pdf")
    for question in QUESTIONS:
        want, got = pipeline.ask(question, use_cache=False), mine.ask(question, use_cache=False, documents=[REPORT])
        assert [(a.text, a.passage.paragraph) for a in got.answers] == [
            (a.text, a.passage.paragraph) for a in want.answers], question
        for answer in got.answers:
            page = answer.passage.page_at(answer.start)
            assert answer.passage.document.file == f"{REPORT}.pdf" and page is not None
            if pages:
                assert "".join(answer.text.split()) in pages[page - 1], (question, page)


def test_documents_are_listed_and_every_answer_names_its_document_and_page(http):
    listed = http.get("/v1/documents").json()["documents"]
    assert [(d["id"], d["file"], d["format"]) for d in listed] == [
        ("drcd-a", "drcd-a.docx", "docx"), ("drcd-b", "drcd-b.html", "html"), (REPORT, f"{REPORT}.pdf", "pdf")]
    assert listed[2]["pages"] >= 15 and all(len(d["sha256"]) == 64 and d["passages"] > 0 for d in listed)
    body = http.post("/v1/ask", json={"question": QUESTIONS[0]}).json()
    top = body["answers"][0]
    assert top["document"] == {"id": REPORT, "title": "秘書長關於本組織工作的報告", "file": f"{REPORT}.pdf"}
    assert top["paragraph"] == 121 and top["citation"] == f"{REPORT}.pdf · 第{top['page']}页 · 第121段 · " \
                                                          "E. 有效協調人道主義援助"
    assert body["passages"][0]["document"]["id"] == REPORT and body["passages"][0]["page"] == top["page"]
    assert http.get("/healthz").json()["documents"] == 3


def test_a_question_can_be_restricted_to_some_documents(http, collection):
    _, articles = collection
    question = articles[0]["paragraphs"][0][:30]
    hits = http.post("/v1/search", json={"question": question, "documents": ["drcd-b"]}).json()["passages"]
    assert hits and {h["document"]["id"] for h in hits} == {"drcd-b"}
    allowed = http.post("/v1/search", json={"question": question, "documents": ["drcd-a"]}).json()["passages"]
    assert allowed[0]["document"]["id"] == "drcd-a" and allowed[0]["section"] == articles[0]["title"]
    r = http.post("/v1/ask", json={"question": question, "documents": ["nope"]})
    assert r.status_code == 422 and r.json()["error"].startswith("documents: no document 'nope'")
    r = http.post("/v1/ask/stream", json={"question": question, "documents": ["nope"]})
    assert r.status_code == 422


def test_no_boilerplate_is_ever_found(http):
    for question in ("首頁", "關於我們", "網站導覽", "秘書長關於本組織工作的報告 file"):
        hits = http.post("/v1/search", json={"question": question, "top_k": 20}).json()["passages"]
        assert not [h["text"] for h in hits if h["text"] in ("首頁", "關於我們") or "file://" in h["text"]]


def test_originals_are_served_a_pdf_inline_and_the_rest_as_downloads(http):
    pdf = http.get(f"/v1/documents/{REPORT}/file")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf.headers["content-disposition"].startswith("inline")
    assert pdf.headers["content-security-policy"] == "sandbox" and pdf.headers["x-content-type-options"] == "nosniff"
    page = http.get("/v1/documents/drcd-b/file")
    assert page.headers["content-type"] == "application/octet-stream"
    assert page.headers["content-disposition"].startswith("attachment")
    assert http.get("/v1/documents/nope/file").status_code == 404


def test_an_admin_adds_and_removes_documents_and_a_failed_upload_changes_nothing(http, mine):
    admin = {"Authorization": f"Bearer {ADMIN}"}
    md = "# 動物園\n\n動物園新來了兩隻熊貓,每天吃四十公斤竹子。\n".encode()
    assert http.post("/v1/documents", files={"file": ("zoo.md", md)}).status_code == 401
    r = http.post("/v1/documents", files={"file": ("zoo.md", md)}, data={"name": "animals/zoo.md"}, headers=admin)
    assert r.status_code == 201 and r.json()["document"]["id"] == "animals-zoo", r.text
    answer = http.post("/v1/ask", json={"question": "熊貓每天吃多少竹子?"}).json()["answers"][0]
    assert answer["text"] == "四十公斤" and answer["document"]["file"] == "animals/zoo.md"
    again = http.post("/v1/documents", files={"file": ("copy.md", md)}, headers=admin)
    assert again.status_code == 200 and again.json()["duplicate"] and again.json()["document"]["id"] == "animals-zoo"
    before = served_version(mine.settings.resolved_index_dir)
    broken = http.post("/v1/documents", files={"file": ("bad.docx", b"PK\x03\x04 not a zip")}, headers=admin)
    assert broken.status_code == 422 and broken.json()["error"].startswith("file: ")
    big = http.post("/v1/documents", files={"file": ("big.txt", "大".encode() * 400_000)}, headers=admin)
    assert big.status_code == 413
    assert served_version(mine.settings.resolved_index_dir) == before  # nothing written
    assert http.delete("/v1/documents/animals-zoo", headers=admin).json()["removed"]
    assert http.delete("/v1/documents/animals-zoo", headers=admin).status_code == 404
    assert "animals-zoo" not in {d["id"] for d in http.get("/v1/documents").json()["documents"]}


def test_qa_index_a_folder_indexes_what_it_can_and_lists_the_rest(collection, tmp_path, api_settings):
    folder = tmp_path / "docs"
    folder.mkdir()
    _, articles = collection
    articles_docx(articles[:1], "一", folder / "good.docx")
    (folder / "notes.md").write_text("# 筆記\n\n跨河大橋於2021年動工。\n", encoding="utf-8")
    with zipfile.ZipFile(folder / "broken.docx", "w") as archive:
        archive.writestr("word/document.xml", "<not xml")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    env = {"QA_HOME": str(api_settings.home), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "qa.cli"]
    r = subprocess.run([*run, "index", str(folder), "--index-dir", str(tmp_path / "ix")], capture_output=True,
                       text=True, env=env, timeout=600)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "indexed" in r.stdout and "of 2 documents" in r.stdout
    assert "skipped broken.docx: " in r.stderr and "skipped photo.png: a PNG image" in r.stderr
    listed = subprocess.run([*run, "documents", "--index-dir", str(tmp_path / "ix")], capture_output=True, text=True,
                            env=env, timeout=120).stdout
    assert [line.split("\t")[0] for line in listed.splitlines()] == ["good", "notes"]
