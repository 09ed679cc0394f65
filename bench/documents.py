"""Your own documents, measured: a collection made by real tools, asked end to end, against the same text as JSON lines;
and what reading and indexing documents costs.

    python -m bench.documents [--out var/bench/documents] [--json bench/results/documents.json] [--speed]

The collection: the bundled report printed to PDF by Chromium (running header and footer), and 32 of the reader's
held-out DRCD articles as 2 Word files, 2 web pages with boilerplate, 2 two-column PDFs and 2 Markdown files (4 articles
to a file). Questions: the report's dev and dev2 sets (gold page from poppler's pdftotext) and the DRCD articles' own
questions (their file, and page for the PDFs). Nothing here tuned the document readers.
Figures: F1 / EM / citation of the top answer over the collection and over the same passages indexed as JSON lines,
document@1, page@1, whether a search hit is boilerplate; with --speed, pages/s to read a 300-page PDF, the time to
index a 50-document folder, and peak RSS while indexing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.made_documents import (
    BOILERPLATE,
    DRCD,
    articles_docx,
    articles_html,
    chromium,
    pdftotext_pages,
    print_pdf,
    report_html,
    report_passages,
)
from bench.paths import EVAL, ROOT, print_and_save

PER_FILE = 4  # DRCD articles in one file
KINDS = ("docx", "html", "pdf", "md")


def _squeeze(text: str) -> str:
    return "".join(text.split())


def page_of(pages: list[str], paragraph: str, start: int, answer: str) -> int | None:
    """The page (1-based) holding `answer` at `start` of `paragraph`: found by the answer with a little of its
    context on each side, in the page texts of an independent reader; None when it is not one page."""
    for reach in (12, 6, 0):
        probe = _squeeze(paragraph[max(0, start - reach):start + len(answer) + reach])
        found = [i + 1 for i, page in enumerate(pages) if probe in page]
        if len(found) == 1:
            return found[0]
    return None


def make_collection(out: Path) -> tuple[Path, Path, list[dict]]:
    """(collection folder, the same passages as JSON lines, questions): see the module's docstring."""
    if chromium() is None:
        raise SystemExit("bench.documents prints PDFs with Chromium: install Debian's chromium")
    from qa.train.data import TrainConfig, held_out_titles

    folder, jsonl = out / "collection", out / "jsonl"
    for d in (folder, jsonl):
        d.mkdir(parents=True, exist_ok=True)
    questions: list[dict] = []
    report_pdf = print_pdf(report_html(with_boilerplate=False), folder / "un-report-2023.pdf")
    pages = pdftotext_pages(report_pdf) or []
    passages = report_passages()
    (jsonl / "un-report-2023.jsonl").write_text("".join(
        json.dumps({"id": p.local_id, "text": p.text, "paragraph": p.paragraph, "box": p.box, "section": p.section},
                   ensure_ascii=False) + "\n" for p in passages), encoding="utf-8")
    by_paragraph = {p.paragraph: p.text for p in passages if p.paragraph}
    for name in ("un-report-dev.jsonl", "un-report-dev2.jsonl"):
        for line in (EVAL / name).read_text(encoding="utf-8").splitlines():
            q = json.loads(line)
            page = None
            if isinstance(q.get("paragraph"), int) and q["answers"]:
                text = by_paragraph[q["paragraph"]]
                starts = [(text.find(a), a) for a in q["answers"] if a in text]
                page = page_of(pages, text, *starts[0]) if starts else None
            questions.append({**q, "id": f"{name.split('.')[0]}:{q['id']}", "document": report_pdf.name if q["answers"]
                              else None, "page": page})
    data = json.loads(DRCD.read_text(encoding="utf-8"))["data"]
    cfg = TrainConfig()
    held = held_out_titles({a["title"] for a in data}, cfg.val_fraction, cfg.seed)
    articles = [a for a in data if a["title"] in held][: PER_FILE * len(KINDS) * 2]
    for i in range(0, len(articles), PER_FILE):
        group, kind = articles[i:i + PER_FILE], KINDS[(i // PER_FILE) % len(KINDS)]
        simple = [{"title": a["title"], "paragraphs": [p["context"] for p in a["paragraphs"]]} for a in group]
        stem = f"drcd-{i // PER_FILE + 1:02d}"
        title = "、".join(a["title"] for a in group)
        if kind == "docx":
            path = articles_docx(simple, title, folder / f"{stem}.docx")
        elif kind == "html":
            path = folder / f"{stem}.html"
            boilerplate = ('<body><nav><a href="/">首頁</a> <a href="/a">關於我們</a></nav>'
                           '<div class="cookie-notice">我們使用 Cookie。</div>')
            page = articles_html(simple, title).replace("<body>", boilerplate)
            path.write_text(page.replace("</body>", "<footer>版權所有 © 2023</footer></body>"), encoding="utf-8")
        elif kind == "pdf":
            path = print_pdf(articles_html(simple, title, columns=2), folder / f"{stem}.pdf")
        else:
            path = folder / f"{stem}.md"
            path.write_text(f"# {title}\n\n" + "".join(f"## {a['title']}\n\n" + "".join(f"{p}\n\n" for p in
                            a["paragraphs"]) for a in simple), encoding="utf-8")
        pages = pdftotext_pages(path) if kind == "pdf" else None
        rows = []
        for a in group:
            for p in a["paragraphs"]:
                rows.append({"id": str(p["id"]), "text": p["context"], "section": a["title"]})
                for qa in p["qas"]:
                    answers = [x["text"] for x in qa["answers"] if x["text"] in p["context"]]
                    if not answers:
                        continue
                    page = page_of(pages, p["context"], p["context"].find(answers[0]), answers[0]) if pages else None
                    questions.append({"id": f"drcd:{qa['id']}", "question": qa["question"], "answers": answers,
                                      "paragraph": None, "document": path.name, "page": page,
                                      "type": "drcd", "script": "traditional"})
        (jsonl / f"{stem}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                             encoding="utf-8")
    (out / "questions.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions),
                                         encoding="utf-8")
    return folder, jsonl, questions


def ask_all(index_dir: Path, paths: list[Path], questions: Path) -> dict:
    """Index `paths` into `index_dir` and ask every question in process (`qa eval`'s scoring)."""
    from qa.config import Settings
    from qa.eval import evaluate, load_dataset
    from qa.pipeline import Pipeline
    from qa.storage.collection import build_index

    settings = Settings(index_dir=index_dir, answer_cache=0)
    t0 = time.perf_counter()
    report = build_index(settings, progress=True, paths=paths)
    built = time.perf_counter() - t0
    pipeline = Pipeline(settings).load()
    result = evaluate(pipeline, load_dataset(questions), progress=True)
    boilerplate = 0
    for q in load_dataset(questions)[:80]:
        boilerplate += sum(any(word in h.passage.text for word in BOILERPLATE) for h in pipeline.search(q.question, 5))
    m = result["metrics"]
    return {"documents": len(report.added), "failures": report.failures, "passages": report.manifest["passages"],
            "index_s": round(built, 1), "f1": round(m["f1"], 1), "em": round(m["em"], 1),
            "citation": m["citation_accuracy"], "document_at_1": m.get("document_at_1"),
            "page_at_1": m.get("page_at_1"), "boilerplate_hits_in_80_searches": boilerplate,
            "by_type": {k: round(v["f1"], 1) for k, v in result["by_type"].items() if v.get("f1") is not None}}


def speed(out: Path) -> dict:
    """Pages/s reading a ~300-page PDF, and a 50-document folder indexed in a child process (time, peak RSS)."""
    from qa.documents.load import read_document

    html = report_html(False)
    body = html[html.index("<body>") + 6:html.index("</body>")]
    big = print_pdf(html.replace(body, body * 15), out / "big.pdf")
    t0 = time.perf_counter()
    document, passages = read_document(big)
    read_s = time.perf_counter() - t0
    folder = out / "fifty"
    folder.mkdir(exist_ok=True)
    sources = sorted((out / "collection").iterdir())
    for i in range(50):  # 50 distinct documents: each collection file with its own first line
        source = sources[i % len(sources)]
        if source.suffix in (".md", ".html"):
            text = source.read_text(encoding="utf-8")
            (folder / f"{i:02d}-{source.name}").write_text(text.replace("# ", f"# {i} ", 1) if source.suffix == ".md"
                                                           else text.replace("<h1>", f"<h1>{i} ", 1), encoding="utf-8")
        else:
            (folder / f"{i:02d}-{source.name}").write_bytes(source.read_bytes() + f"\n%{i}\n".encode())
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "qa.cli", "index", str(folder), "--index-dir", str(out / "fifty-index")],
                       capture_output=True, text=True)
    index_s = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"pdf_pages": document.pages, "pdf_read_s": round(read_s, 2),
            "pages_per_s": round(document.pages / read_s, 1),
            "pdf_passages": len(passages), "fifty_documents_index_s": round(index_s, 1),
            "fifty_documents_exit": r.returncode, "fifty_documents_summary": r.stdout.strip().splitlines()[-1:],
            "index_peak_rss_mb": round(peak)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "documents")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--speed", action="store_true", help="also time reading and indexing (a few minutes)")
    args = parser.parse_args(argv)
    folder, jsonl, questions = make_collection(args.out)
    figures = {"questions": len(questions), "with_page": sum(q["page"] is not None for q in questions)}
    figures["collection"] = ask_all(args.out / "collection-index", [folder], args.out / "questions.jsonl")
    plain = args.out / "questions-jsonl.jsonl"  # the same questions without document and page (files differ)
    plain.write_text("".join(json.dumps({**q, "document": None, "page": None}, ensure_ascii=False) + "\n"
                             for q in questions), encoding="utf-8")
    figures["jsonl"] = ask_all(args.out / "jsonl-index", [jsonl], plain)
    if args.speed:
        figures["speed"] = speed(args.out)
    print_and_save(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
