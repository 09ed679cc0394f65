"""Questions written over training paragraphs (qa/train/written.py): checked, and read into the training mix."""

from __future__ import annotations

import json

import pytest

from qa.documents.squad import SquadParagraph, SquadQuestion
from qa.train.augment import training_mix
from qa.train.written import main, problems_of, read_written, written_questions

GRAIN = SquadParagraph("g-p1", "糧食", "黑海倡議運出了3200萬噸穀物和其他食品。")
CHINESE = [SquadQuestion("g-1", "運出了多少穀物?", GRAIN, ("3200萬噸",), (7,))]


def row(rid: str, question: str, answers: list[str], script: str = "english", kind: str = "number",
        paragraph: str = "g-p1") -> dict:
    return {"id": rid, "paragraph_id": paragraph, "question": question, "answers": answers, "script": script,
            "type": kind}


def write(tmp_path, rows: list[dict]):
    path = tmp_path / "written.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_written_questions_join_their_paragraph_bridged_with_offsets(tmp_path):
    path = write(tmp_path, [row("w-1", "How much grain did the Black Sea Initiative ship?", ["3200萬噸"]),
                            row("w-2", "How much grain did it ship in 2021?", [], kind="unanswerable"),
                            row("w-3", "Which port?", ["敖德薩港"], paragraph="elsewhere")])  # not a training paragraph
    shipped, missing = written_questions(CHINESE, [path])
    assert shipped.id == "w-1-w" and shipped.question.endswith("(黑海 穀物 倡議)")  # bridged like the translations
    assert shipped.paragraph.context[shipped.starts[0]:][:len("3200萬噸")] == "3200萬噸"
    assert missing.answers == () and missing.starts == ()  # "no answer" to learn
    mix, counts = training_mix(CHINESE, {"written": [str(path)]}, seed=1)
    assert counts["written"] == 2 and len(mix) == 3


@pytest.mark.parametrize(("bad", "problem"), [
    (row("w-1", "How much grain?", ["3200萬"]), None),  # a shorter verbatim span is fine
    (row("w-1", "How much grain?", ["3300萬噸"]), "not a verbatim span"),
    (row("w-1", "What else was shipped?", ["其他食品。"], kind="phrase"), "punctuation at an edge"),
    (row("w-1", "運出了多少穀物?", ["3200萬噸"]), "not in English"),
    (row("w-1", "How much grain?", [], kind="number"), "unanswerable if and only if"),
    (row("w-1", "How much grain?", ["3200萬噸"], paragraph="held-out"), "not one of the training split"),
])
def test_problems_name_each_bad_row(bad, problem):
    problems = problems_of([bad], {GRAIN.id: GRAIN})
    assert (problem is None and problems == []) or (len(problems) == 1 and problem in problems[0])


def test_a_question_may_be_asked_of_two_paragraphs_but_not_twice_of_one():
    other = SquadParagraph("g-p2", "糧食", "黑海倡議於2022年7月簽署。")
    paragraphs = {GRAIN.id: GRAIN, other.id: other}
    asked = row("w-1", "How much grain was shipped?", ["3200萬噸"])
    assert problems_of([asked, row("w-2", asked["question"], [], kind="unanswerable", paragraph="g-p2")],
                       paragraphs) == []
    assert "asked twice" in problems_of([asked, row("w-2", asked["question"], ["3200萬噸"])], paragraphs)[0]
    assert "id repeated" in problems_of([asked, row("w-1", "What was signed?", ["黑海倡議"], kind="entity",
                                                    paragraph="g-p2")], paragraphs)[0]


def test_a_file_that_is_not_rows_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "w-1", "question": "no paragraph"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:1: expected the fields"):
        read_written([path])
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps({"data": [{"title": "糧食", "paragraphs": [{"id": "g-p1", "context": GRAIN.context,
                                                                          "qas": []}]}]}), encoding="utf-8")
    assert main([str(path), "--data", str(squad)]) == 1
    assert "expected the fields" in capsys.readouterr().err
    assert main([str(path), "--data", str(tmp_path / "absent.json")]) == 1
    assert "not found: " in capsys.readouterr().err


TWICE = SquadParagraph("g-p3", "糧食", "黑海倡議運出了3200萬噸穀物；其中3200萬噸的一半運往發展中國家。")


def test_an_answer_found_twice_needs_answer_starts_and_training_learns_that_place(tmp_path):
    second = TWICE.context.index("3200萬噸", 8)
    asked = row("w-1", "Half of how much grain went to developing countries?", ["3200萬噸"], paragraph="g-p3")
    assert "occurs 2 times" in problems_of([asked], {TWICE.id: TWICE})[0]
    assert "not the answers' offsets" in problems_of([{**asked, "answer_starts": [second + 1]}], {TWICE.id: TWICE})[0]
    assert problems_of([{**asked, "answer_starts": [second]}], {TWICE.id: TWICE}) == []
    chinese = [SquadQuestion("g-3", "運出了多少?", TWICE, ("3200萬噸",), (7,))]
    (learnt,) = written_questions(chinese, [write(tmp_path, [{**asked, "answer_starts": [second]}])])
    assert learnt.starts == (second,) and second != 7
