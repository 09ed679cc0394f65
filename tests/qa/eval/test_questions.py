"""Reading question sets: the project's JSON lines and SQuAD format, and one-line errors that
name the file and line (no models: fast)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.eval import EvalError, load_dataset

SLICE = Path(__file__).resolve().parents[2] / "data" / "un-report-dev-slice.jsonl"


@pytest.fixture(scope="module")
def questions():
    return load_dataset(SLICE)


# --- reading data sets --------------------------------------------------------------------------


def test_jsonl_slice_loads_with_gold_references(questions):
    assert len(questions) == 20
    by_kind = {type(q.gold).__name__ for q in questions}
    assert by_kind == {"int", "str", "NoneType"}
    box = next(q for q in questions if isinstance(q.gold, str))
    assert box.gold.startswith("box:") and box.answerable
    assert sum(not q.answerable for q in questions) == 2
    assert {q.script for q in questions} >= {"traditional", "simplified", "english"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "question": "q?", "answers": ["x"], "paragraph": 1}\n{oops\n', "bad.jsonl:2: not valid JSON"),
        ('{"id": "a", "answers": ["x"], "paragraph": 1}\n', 'bad.jsonl:1: "question" must be a non-empty string'),
        ('{"question": "q?", "answers": "x", "paragraph": 1}\n', 'bad.jsonl:1: "answers" must be a list'),
        ('{"question": "q?", "answers": ["x"], "paragraph": "7"}\n', 'bad.jsonl:1: "paragraph" must be'),
        ('{"id": "a", "question": "q?", "answers": []}\n\n{"id": "a", "question": "r?", "answers": []}\n',
         "bad.jsonl:3: duplicate id 'a'"),
        ("\n\n", "bad.jsonl: no questions found"),
    ],
)
def test_bad_jsonl_names_the_line(tmp_path, content, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(EvalError, match=re.escape(message)):
        load_dataset(bad)


def test_squad_questions_cite_their_paragraph_id(tmp_path, squad_file):
    path = squad_file(tmp_path, unanswerable=True)
    questions = load_dataset(path)
    assert [q.gold for q in questions] == ["id:r-7", "id:r-13", "id:r-35", None]
    assert questions[0].answers == ("近1.6億",) and not questions[-1].answerable
