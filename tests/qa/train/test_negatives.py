"""Mining hard negatives with the project's own retriever (qa/train/negatives.py, `qa mine-negatives`)."""

from __future__ import annotations

import json

import pytest

from qa.train.negatives import mine, read_rows, write_rows

# two paragraphs about ports (near misses for each other's questions), one about a forest
PARAGRAPHS = [("港口", "港口-1", "新港口的貨櫃碼頭去年處理了三百萬個標準箱,比前年增加一成。", "港口去年處理了多少貨櫃?",
               "三百萬個標準箱"),
              ("港口", "港口-2", "舊港口的貨櫃碼頭在2010年關閉,碼頭工人轉往新港口工作。", "舊港口的碼頭哪一年關閉?",
               "2010年"),
              ("森林", "森林-1", "山區的森林火災燒毀了兩千公頃林地,消防員花了五天才撲滅。", "森林火災燒毀了多少林地?",
               "兩千公頃")]


@pytest.fixture(scope="module")
def ports(tmp_path_factory):
    from qa.eval import squad_pipeline

    data = {"data": [{"title": t, "paragraphs": [{"id": pid, "context": c, "qas": [
        {"id": f"{pid}-q", "question": q, "answers": [{"text": a, "answer_start": c.find(a)}]}]}]}
        for t, pid, c, q, a in PARAGRAPHS]}
    path = tmp_path_factory.mktemp("negatives") / "cmrc_ports.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path, squad_pipeline(path, index_dir=path.parent / "index", with_reader=False)


@pytest.mark.slow
def test_each_question_gets_the_best_ranked_paragraph_that_is_not_its_own_and_does_not_answer_it(ports):
    path, pipeline = ports
    rows = {r["id"]: r for r in mine(pipeline, path)}
    assert rows["港口-1-q"]["paragraph"] == "港口-2" and rows["港口-2-q"]["paragraph"] == "港口-1"
    assert all(r["language"] == "zh" and r["paragraph"] != r["id"][:-2] for r in rows.values())
    english = mine(pipeline, path, {"港口-2-q": "In which year did the old port's terminal close?"}, depth=2)
    assert english == [{"id": "港口-2-q", "paragraph": "港口-1", "rank": 2, "language": "en"}]


def test_mined_rows_round_trip_and_a_wrong_line_is_named(tmp_path):
    rows = [{"id": "q1", "paragraph": "p2", "rank": 1, "language": "zh"}]
    write_rows(rows, tmp_path / "n.jsonl")
    assert read_rows(tmp_path / "n.jsonl") == rows
    (tmp_path / "bad.jsonl").write_text(json.dumps(rows[0]) + "\n" + json.dumps({"id": "q2"}) + "\n")
    with pytest.raises(ValueError, match="line 2"):
        read_rows(tmp_path / "bad.jsonl")
