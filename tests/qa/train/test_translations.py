"""The hand-translated English questions keep training and evaluation apart: the training files translate
training-split questions only, the English evaluation file only questions of the held-out articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.language.text import has_cjk
from qa.train.augment import read_translations
from qa.train.data import TrainConfig, split_questions

ROOT = Path(__file__).resolve().parents[3]
MRC = ROOT.parent / "shared" / "data" / "mrc"
TRAINING_FILES = sorted((ROOT / "data" / "train").glob("*-train-en*.jsonl"))
EVAL_FILE = ROOT / "data" / "eval" / "drcd-heldout-B-en.jsonl"


@pytest.fixture(scope="module")
def split():
    files = [MRC / "DRCD_dev.json", MRC / "cmrc2018_dev.json", MRC / "cmrc2018_trial.json"]
    if not all(f.is_file() for f in files):
        pytest.skip(f"the reading-comprehension data is not in {MRC}")
    cfg = TrainConfig()
    train, val = split_questions(files, cfg.val_fraction, cfg.seed)
    return {q.id for q in train}, {q.id for q in val}


def test_training_translations_are_of_training_questions_each_once(split):
    train, _ = split
    ids = [qid for path in TRAINING_FILES for qid in read_translations(path)]
    assert len(TRAINING_FILES) >= 4 and len(ids) >= 1250
    assert len(ids) == len(set(ids)), "a question is translated in two training files"
    assert set(ids) <= train, f"not training-split questions: {sorted(set(ids) - train)[:5]}"


def test_the_english_evaluation_questions_are_of_held_out_articles_only(split):
    _, held_out = split
    ids = set(read_translations(EVAL_FILE))
    assert len(ids) == 175 and ids <= held_out


def test_every_translation_is_an_english_question():
    for path in [*TRAINING_FILES, EVAL_FILE]:
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["question"]
            assert text.strip() and not has_cjk(text), f"{path.name}: {text!r}"


def test_recipes_name_translation_files_that_exist():
    for recipe in sorted((ROOT / "data" / "train").glob("recipe-v*.json")):
        for path in json.loads(recipe.read_text(encoding="utf-8")).get("translations", []):
            assert (ROOT / path).is_file(), f"{recipe.name} names {path}"
