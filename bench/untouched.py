"""The untouched reader split: new questions over the DRCD articles no reader trained on, in Traditional,
Simplified and English, with unanswerable ones (data/eval/untouched/*.jsonl; written for the reader v3 issue).

No reader trained on these articles, and no choice looked at these questions: report on them once per
candidate reader you ship, never tune on them (tune on the old held-out split, bench/drcd_heldout.py).
One object a line:

    {"id", "paragraph_id": DRCD paragraph id, "question", "answers": [verbatim spans of that paragraph],
     "script": "traditional" | "simplified" | "english", "type"}

`answers` [] (type "unanswerable") means neither the paragraph nor its article gives the answer.

    python -m bench.untouched check data/eval/untouched/*.jsonl   # spans verbatim, fields, ids
    python -m bench.untouched [--output FILE]                      # the reader of QA_READER_DIR on it

The second prints the reader with the gold paragraph given (EM/F1 per script, answerable questions) and the
pipeline end to end over DRCD dev as a 1,000-paragraph corpus (`qa eval`'s metrics, unanswerable ones included;
they need the reader's calibration.json, so `--gold-paragraph-only` for a reader without one).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.paths import EVAL, ROOT, SHARED, print_and_save

UNTOUCHED = EVAL / "untouched"
SCRIPTS = ("traditional", "simplified", "english")
TYPES = {"number", "date", "entity", "place", "phrase", "why/how", "unanswerable"}


@dataclass(frozen=True)
class Row:
    id: str
    paragraph_id: str
    question: str
    answers: tuple[str, ...]
    script: str
    type: str


def held_out_paragraphs(drcd: Path) -> dict[str, tuple[str, str]]:
    """Paragraph id → (article title, context) for the reader's held-out DRCD articles."""
    from qa.train.data import TrainConfig, held_out_titles

    data = json.loads(drcd.read_text(encoding="utf-8"))["data"]
    cfg = TrainConfig()
    held = held_out_titles({a["title"] for a in data}, cfg.val_fraction, cfg.seed)
    return {p["id"]: (a["title"], p["context"]) for a in data if a["title"] in held for p in a["paragraphs"]}


def read_rows(paths: list[Path]) -> tuple[list[Row], list[str]]:
    """The rows of the files, and one line per problem found in them (file:line: what)."""
    rows, problems = [], []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: unreadable ({exc})")
            continue
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = json.loads(line)
                rows.append(Row(str(obj["id"]), str(obj["paragraph_id"]), obj["question"].strip(),
                                tuple(obj["answers"]), obj["script"], obj["type"]))
            except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as exc:
                problems.append(f"{where}: not a row ({exc!r})")
    return rows, problems


def check(rows: list[Row], paragraphs: dict[str, tuple[str, str]]) -> list[str]:
    """What is wrong with the rows: unknown paragraph, answer not verbatim or with ragged edges, script or type out
    of range, repeated id or question. (Whether an unanswerable question is really unanswerable is the writer's
    check: its words are usually in the article.)"""
    from qa.language.script import script_of

    problems, seen_ids, seen_questions = [], set(), set()
    for r in rows:
        where = f"{r.id}"
        if r.id in seen_ids:
            problems.append(f"{where}: id repeated")
        if r.question in seen_questions:
            problems.append(f"{where}: question repeated")
        seen_ids.add(r.id)
        seen_questions.add(r.question)
        if r.paragraph_id not in paragraphs:
            problems.append(f"{where}: paragraph_id {r.paragraph_id!r} is not a held-out DRCD paragraph")
            continue
        _, context = paragraphs[r.paragraph_id]
        if r.script not in SCRIPTS:
            problems.append(f"{where}: script {r.script!r} not one of {SCRIPTS}")
        if r.type not in TYPES:
            problems.append(f"{where}: type {r.type!r} not one of {sorted(TYPES)}")
        has_cjk = any("\u4e00" <= c <= "\u9fff" for c in r.question)
        if r.script == "english" and has_cjk:
            problems.append(f"{where}: an English question with Chinese characters")
        if r.script in ("traditional", "simplified") and script_of(r.question) not in (r.script, None):
            problems.append(f"{where}: written in {script_of(r.question)}, marked {r.script}")
        if (r.type == "unanswerable") != (not r.answers):
            problems.append(f"{where}: type unanswerable if and only if answers is []")
        for a in r.answers:
            if not a.strip() or a not in context:
                problems.append(f"{where}: answer {a!r} is not a verbatim span of paragraph {r.paragraph_id}")
            elif a != a.strip() or a[-1] in "，。、；：！？「」（）,.;:":
                problems.append(f"{where}: answer {a!r} starts or ends with a space or punctuation")
    return problems


def measure(rows: list[Row], drcd: Path, end_to_end: bool = True) -> dict:
    """The reader with the gold paragraph (per script) and the pipeline end to end over DRCD dev."""
    from qa.config import Settings
    from qa.eval import evaluate, squad_pipeline
    from qa.eval.metrics import exact_match, f1_score
    from qa.eval.questions import EvalQuestion

    settings = Settings()
    pipeline = squad_pipeline(drcd, settings, index_dir=ROOT / "var" / "bench" / "drcd-index", progress=True)
    gold: dict = {}
    for script in SCRIPTS:
        asked = [r for r in rows if r.script == script and r.answers]
        em = f1 = 0.0
        for r in asked:
            pred = gold_paragraph_answer(pipeline, r.question, r.paragraph_id)
            em += exact_match(pred, r.answers)
            f1 += f1_score(pred, r.answers)
        n = max(1, len(asked))
        gold[script] = {"n": len(asked), "em": round(100 * em / n, 1), "f1": round(100 * f1 / n, 1)}
    if not end_to_end:
        return {"reader": str(settings.reader_dir), "questions": len(rows), "gold_paragraph": gold}
    questions = [EvalQuestion(r.id, r.question, r.answers, f"id:{r.paragraph_id}" if r.answers else None, r.type,
                              r.script) for r in rows]
    result = evaluate(pipeline, questions)
    m = result["metrics"]
    return {
        "reader": str(settings.reader_dir),
        "questions": len(rows),
        "gold_paragraph": gold,
        "end_to_end": {k: m[k] for k in ("f1", "em", "has_ans", "no_ans", "answerable_withheld",
                                         "citation_accuracy")} | {"retrieval": m["retrieval"]},
        "end_to_end_by_script": {s: {k: row.get(k) for k in ("n", "f1", "em")} | {
            "recall@1": row.get("retrieval", {}).get("recall@1")} for s, row in result["by_script"].items()},
    }


def gold_paragraph_answer(pipeline, question: str, paragraph_id: str) -> str:
    """The reader's best span in the gold paragraph, for the question as the pipeline reads it there (in the
    paragraph's script; English bridged to its words)."""
    passage = pipeline.passage(paragraph_id)
    spans = pipeline.reader.read(pipeline.as_read(question, passage), [passage.text])
    best = max(spans, key=lambda s: s.score, default=None)
    return passage.text[best.start : best.end] if best else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", choices=["check", "measure"], default="measure")
    parser.add_argument("files", nargs="*", type=Path, help="question files (default: data/eval/untouched/*.jsonl)")
    parser.add_argument("--drcd", type=Path, default=SHARED / "mrc" / "DRCD_dev.json")
    parser.add_argument("--output", type=Path, help="also write the figures here (JSON)")
    parser.add_argument("--gold-paragraph-only", action="store_true",
                        help="the reader alone (end to end needs the reader's calibration.json, fitted on dev2)")
    args = parser.parse_args(argv)
    files = args.files or sorted(UNTOUCHED.glob("*.jsonl"))
    if not files or not args.drcd.is_file():
        print(f"untouched: no question files, or {args.drcd} not found", file=sys.stderr)
        return 2
    paragraphs = held_out_paragraphs(args.drcd)
    rows, problems = read_rows(files)
    problems += check(rows, paragraphs)
    if args.command == "check" or problems:
        for p in problems:
            print(p)
        counts = {s: sum(r.script == s for r in rows) for s in SCRIPTS}
        print(f"{len(rows)} questions ({counts}, {sum(not r.answers for r in rows)} unanswerable): "
              f"{len(problems)} problems")
        return 1 if problems else 0
    print_and_save(measure(rows, args.drcd, end_to_end=not args.gold_paragraph_only), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
