"""Hard negatives from the project's own retriever, for the reader's training mix (`retriever_negatives`).

A question the document does not answer still retrieves the passage nearest its topic, and the reader, sure of
a plausible span there, answers it (the untouched DRCD set: 8 of 34 such questions withheld). The `unanswerable`
ingredient pairs a question with a random other paragraph of its article; this pairs it with the paragraph
that hybrid retrieval, as served (the English query map included), ranks highest among those that are not its
own and hold none of its answers: the near miss a user meets. `qa mine-negatives` writes them as JSONL rows
`{"id", "paragraph", "rank", "language"}` (question id, the negative paragraph's id in the same SQuAD file, its
rank, "zh" or "en"); `qa.train.augment.retriever_negatives` turns rows into training questions.
"""

from __future__ import annotations

import json
from pathlib import Path

from qa.documents.squad import read_squad
from qa.train.data import TrainConfig, held_out_titles

DEPTH = 5  # retrieval ranks searched for a negative; past them the question's neighbours are not near misses


def training_questions(squad_file: Path):
    """The answered questions of a SQuAD file that training may see (DRCD's held-out articles left out), and the
    ids of the held-out paragraphs (no negative may come from them)."""
    _, questions = read_squad(squad_file)
    held = set()
    if "drcd" in squad_file.name.lower():
        held = held_out_titles({q.paragraph.title for q in questions}, TrainConfig.val_fraction, TrainConfig.seed)
    held_paragraphs = {q.paragraph.id for q in questions if q.paragraph.title in held}
    return [q for q in questions if q.answers and q.paragraph.title not in held], held_paragraphs


def mine(pipeline, squad_file: Path, english: dict[str, str] | None = None, depth: int = DEPTH,
         progress: bool = False) -> list[dict]:
    """One row per training question of `squad_file` (searched over an index of that file's paragraphs) whose
    top `depth` passages hold a negative; with `english` (id -> translation), the translated questions asked in
    English instead."""
    from tqdm import tqdm

    questions, held = training_questions(squad_file)
    language = "zh" if english is None else "en"
    if english is not None:
        questions = [q for q in questions if q.id in english]
    rows = []
    for q in tqdm(questions, desc=f"{squad_file.name} ({language})", unit="q", disable=not progress):
        asked = q.question if english is None else english[q.id]
        if not asked.strip():
            continue  # CMRC trial has a blank question
        for rank, hit in enumerate(pipeline.search(asked, depth), start=1):
            paragraph = hit.passage.id.split(":", 1)[-1]
            if paragraph == q.paragraph.id or paragraph in held:
                continue
            if any(a in hit.passage.text for a in q.answers):
                continue  # another paragraph that answers it too is no negative
            rows.append({"id": q.id, "paragraph": paragraph, "rank": rank, "language": language})
            break
    return rows


def write_rows(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)


def read_rows(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row, dict) or not {"id", "paragraph", "language"} <= set(row):
            raise ValueError(f"{path}: line {n} is not a mined negative ({{\"id\", \"paragraph\", \"language\"}})")
        rows.append(row)
    return rows
