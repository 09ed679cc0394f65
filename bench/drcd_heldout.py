"""The reader's held-out DRCD articles as SQuAD files, to ask over DRCD dev as a whole corpus.

`python -m bench.drcd_heldout OUT_DIR` writes drcd-heldout.json (all 38 articles, 453 questions) and
its halves drcd-heldout-A.json / -B.json (every other article): tune a setting on A, report on B.
drcd-heldout-B-en.json asks half B's questions in English (hand-translated: data/eval/drcd-heldout-B-en.jsonl):

    qa eval OUT_DIR/drcd-heldout-B.json --corpus ../shared/data/mrc/DRCD_dev.json --index-dir var/drcd-index
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.paths import EVAL, SHARED
from qa.train.augment import read_translations
from qa.train.data import TrainConfig, held_out_titles

ENGLISH_B = EVAL / "drcd-heldout-B-en.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--drcd", type=Path, default=SHARED / "mrc" / "DRCD_dev.json")
    args = parser.parse_args(argv)
    for path, articles, questions in write_held_out(args.drcd, args.out_dir):
        print(f"{path}: {articles} articles, {questions} questions")
    return 0


def write_held_out(drcd: Path, out_dir: Path) -> list[tuple[Path, int, int]]:
    """Write the held-out articles and their halves; (path, articles, questions) of each file, all first."""
    data = json.loads(drcd.read_text(encoding="utf-8"))
    cfg = TrainConfig()
    held = held_out_titles({a["title"] for a in data["data"]}, cfg.val_fraction, cfg.seed)
    articles = [a for a in data["data"] if a["title"] in held]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, part in (("", articles), ("-A", articles[0::2]), ("-B", articles[1::2])):
        path = out_dir / f"drcd-heldout{name}.json"
        path.write_text(json.dumps({**data, "data": part}, ensure_ascii=False), encoding="utf-8")
        written.append((path, len(part), sum(len(p["qas"]) for a in part for p in a["paragraphs"])))
    english = read_translations(ENGLISH_B)
    part = [in_english(a, english) for a in articles[1::2]]
    path = out_dir / "drcd-heldout-B-en.json"
    path.write_text(json.dumps({**data, "data": part}, ensure_ascii=False), encoding="utf-8")
    written.append((path, len(part), sum(len(p["qas"]) for a in part for p in a["paragraphs"])))
    return written


def write_without_gold(drcd: Path, out_dir: Path) -> tuple[Path, list[Path]]:
    """DRCD dev without the paragraphs the held-out questions were asked about, and those questions (Chinese,
    and half B in English) as questions it does not answer: an untouched test of `no_answer`, where the
    closest passages are the same article's other paragraphs. (corpus path, [question files])."""
    data = json.loads(drcd.read_text(encoding="utf-8"))
    held_out = {path.name: json.loads(path.read_text(encoding="utf-8")) for path, _, _ in write_held_out(drcd, out_dir)}
    gold = {p["context"] for a in held_out["drcd-heldout.json"]["data"] for p in a["paragraphs"]}
    articles = [{**a, "paragraphs": [p for p in a["paragraphs"] if p["context"] not in gold]} for a in data["data"]]
    corpus = out_dir / "drcd-without-gold.json"
    corpus.write_text(json.dumps({**data, "data": articles}, ensure_ascii=False), encoding="utf-8")
    files = []
    for name, script in (("drcd-heldout.json", "traditional"), ("drcd-heldout-B-en.json", "english")):
        path = out_dir / name.replace(".json", "-without-gold.jsonl")
        rows = [{"id": q["id"], "question": q["question"], "answers": [], "paragraph": None, "script": script}
                for a in held_out[name]["data"] for p in a["paragraphs"] for q in p["qas"]]
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        files.append(path)
    return corpus, files


def in_english(article: dict, english: dict[str, str]) -> dict:
    """The article with each question that has a translation asked in English (the others left out)."""
    paragraphs = [
        {**p, "qas": [{**qa, "question": english[qa["id"]]} for qa in p["qas"] if qa["id"] in english]}
        for p in article["paragraphs"]
    ]
    return {**article, "paragraphs": paragraphs}


if __name__ == "__main__":
    raise SystemExit(main())
