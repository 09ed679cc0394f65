"""Questions written for the reader's training over training-split paragraphs (data/train/written/*.jsonl).

The hand translations (augment.py, `translated`) give English questions the Chinese ones' answers; these are new
questions written over training paragraphs in English, with near-miss unanswerable ones, as the issue on the reader
asks for ("thousands are worth it"). One object a line, as the untouched split's (bench/untouched.py):

    {"id", "paragraph_id": a SQuAD paragraph id, "question", "answers": [verbatim spans of that paragraph],
     "script": "english" | "traditional" | "simplified", "type", "answer_starts": [each answer's offset]}

`answer_starts` is needed only where an answer occurs more than once in its paragraph (it says which place the
question asks about; without it training would learn whichever comes first), and may be given anywhere.

`answers` [] (type "unanswerable") means the paragraph does not give the answer: the reader learns "no answer" there.
Check a file before training on it (spans verbatim, paragraphs of the training split, never a held-out article's):

    python -m qa.train.written data/train/written/*.jsonl --data DRCD_dev.json cmrc2018_dev.json cmrc2018_trial.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qa.documents.squad import SquadParagraph, SquadQuestion
from qa.language.bridge import bridged
from qa.language.text import has_cjk

SCRIPTS = ("english", "traditional", "simplified")
TYPES = frozenset({"number", "date", "entity", "place", "phrase", "why/how", "unanswerable"})
FIELDS = frozenset({"id", "paragraph_id", "question", "answers", "script", "type"})
OPTIONAL = frozenset({"answer_starts"})
_EDGES = "，。、；：！？「」『』（）,.;:!?() "


def read_written(paths: list[Path]) -> list[dict]:
    """The rows of the files; ValueError naming the file and line of one that is not a row."""
    rows = []
    for path in paths:
        for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not JSON ({exc})") from exc
            if not isinstance(row, dict) or not FIELDS <= set(row) <= FIELDS | OPTIONAL:
                raise ValueError(f"{path}:{lineno}: expected the fields {', '.join(sorted(FIELDS))} "
                                 f"(and optionally {', '.join(sorted(OPTIONAL))})")
            rows.append(row)
    return rows


def problems_of(rows: list[dict], paragraphs: dict[str, SquadParagraph]) -> list[str]:
    """What is wrong with the rows: a paragraph not of the training split, an answer not verbatim or with a ragged
    edge, an answer found more than once with no `answer_starts` (or starts that do not point at the answers), a
    script or type out of range, a repeated id, or a question asked twice of one paragraph (asked of two it is two
    questions: one paragraph may hold its answer and the other not)."""
    problems, ids, asked = [], set(), set()
    for row in rows:
        where = str(row["id"])
        if row["id"] in ids or (row["paragraph_id"], row["question"]) in asked:
            problems.append(f"{where}: id repeated, or the question asked twice of its paragraph")
        ids.add(row["id"])
        asked.add((row["paragraph_id"], row["question"]))
        paragraph = paragraphs.get(row["paragraph_id"])
        if paragraph is None:
            problems.append(f"{where}: paragraph {row['paragraph_id']!r} is not one of the training split")
            continue
        if row["script"] not in SCRIPTS or row["type"] not in TYPES:
            problems.append(f"{where}: script {row['script']!r} or type {row['type']!r} unknown")
        if (row["script"] == "english") == has_cjk(row["question"]):
            problems.append(f"{where}: script {row['script']} but the question is {'not ' * has_cjk(row['question'])}"
                            "in English")
        if (row["type"] == "unanswerable") != (row["answers"] == []):
            problems.append(f"{where}: type unanswerable if and only if answers is []")
        for answer in row["answers"]:
            if not answer or answer not in paragraph.context:
                problems.append(f"{where}: answer {answer!r} is not a verbatim span of its paragraph")
            elif answer[0] in _EDGES or answer[-1] in _EDGES:
                problems.append(f"{where}: answer {answer!r} has a space or punctuation at an edge")
            elif "answer_starts" not in row and paragraph.context.count(answer) > 1:
                problems.append(f"{where}: answer {answer!r} occurs {paragraph.context.count(answer)} times in its "
                                "paragraph; answer_starts must say which one the question asks about")
        if "answer_starts" in row and not _starts_point_at_answers(row, paragraph.context):
            problems.append(f"{where}: answer_starts {row['answer_starts']!r} are not the answers' offsets, one each")
    return problems


def _starts_point_at_answers(row: dict, context: str) -> bool:
    starts = row["answer_starts"]
    return (isinstance(starts, list) and len(starts) == len(row["answers"])
            and all(type(s) is int and s >= 0 and context[s:s + len(a)] == a for s, a in zip(starts, row["answers"])))


def answer_offsets(row: dict, context: str) -> tuple[int, ...]:
    """Where each answer sits: the row's `answer_starts` when it has them, else each answer's first place."""
    if "answer_starts" in row and _starts_point_at_answers(row, context):
        return tuple(row["answer_starts"])
    return tuple(context.index(a) for a in row["answers"])


def written_questions(chinese: list[SquadQuestion], paths: list[Path]) -> list[SquadQuestion]:
    """The written questions over the paragraphs of `chinese` (the training split's: a row over any other paragraph
    is left out, as is one whose answers are not all in it), an English one bridged to its paragraph as the
    translations are; each answer at its `answer_offsets`."""
    paragraphs = {q.paragraph.id: q.paragraph for q in chinese}
    out = []
    for row in read_written(paths):
        paragraph = paragraphs.get(row["paragraph_id"])
        if paragraph is None:
            continue
        question = bridged(row["question"], paragraph.context) if row["script"] == "english" else row["question"]
        if not all(a in paragraph.context for a in row["answers"]):
            continue  # the checker names it; training never learns a span that is not there
        out.append(SquadQuestion(f"{row['id']}-w", question, paragraph, tuple(row["answers"]),
                                 answer_offsets(row, paragraph.context)))
    return out


def main(argv: list[str] | None = None) -> int:
    from qa.documents.squad import read_squad
    from qa.train.data import TrainConfig, held_out_titles

    parser = argparse.ArgumentParser(prog="python -m qa.train.written", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="JSONL files of written questions")
    parser.add_argument("--data", nargs="+", type=Path, required=True,
                        help="the SQuAD files the reader trains on (DRCD's held-out articles are left out)")
    args = parser.parse_args(argv)
    if missing := [str(p) for p in [*args.files, *args.data] if not p.is_file()]:
        print(f"not found: {', '.join(missing)}", file=sys.stderr)
        return 1
    paragraphs: dict[str, SquadParagraph] = {}
    for path in args.data:
        _, questions = read_squad(path)
        held = set()
        if "drcd" in path.name.lower():
            held = held_out_titles({q.paragraph.title for q in questions}, TrainConfig.val_fraction, TrainConfig.seed)
        paragraphs |= {q.paragraph.id: q.paragraph for q in questions if q.paragraph.title not in held}
    try:
        rows = read_written(args.files)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    problems = problems_of(rows, paragraphs)
    unanswerable = sum(row["type"] == "unanswerable" for row in rows)
    print(f"{len(rows)} questions ({unanswerable} unanswerable) over {len({r['paragraph_id'] for r in rows})} "
          f"paragraphs; {len(problems)} problems")
    print("\n".join(problems), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
