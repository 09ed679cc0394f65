"""POST /v1/feedback (the contract the chat widget posts to) and the round trip that grows the
eval set from use: post -> `qa feedback export` -> `qa eval`."""

from __future__ import annotations

import json

import pytest

from qa.cli import main
from qa.eval import evaluate, load_dataset
from qa.feedback import FeedbackStore, feedback_path


def _post(client, **body):
    return client.post("/v1/feedback", json=body)


def test_feedback_is_stored_next_to_the_index_not_in_it(settings):
    path = feedback_path(settings)
    assert path.parent == settings.resolved_index_dir.parent  # `qa index` replaces the index folder
    assert not path.is_relative_to(settings.resolved_index_dir)


def test_post_returns_201_and_an_id(client, settings):
    r = _post(client, question="巴基斯坦的暴雨洪灾波及了多少人?", answer="3300萬人", passage_id="p121",
              paragraph=121, helpful=True)
    assert r.status_code == 201
    first = r.json()["id"]
    assert isinstance(first, int)
    r = _post(client, question="同一個問題?", answer=None, passage_id=None, paragraph=None, helpful=False,
              correct_answer=None, correct_paragraph=None)
    assert r.status_code == 201 and r.json()["id"] > first
    row = next(x for x in FeedbackStore(feedback_path(settings)).rows() if x["id"] == first)
    assert row["answer"] == "3300萬人" and row["paragraph"] == 121 and row["helpful"] is True
    assert row["corpus_sha256"]  # which document the feedback is about


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": "問題?"}, "helpful: Field required"),
        ({"question": "  ", "helpful": True}, "question: the question is empty"),
        ({"helpful": True}, "question: Field required"),
        ({"question": "問題?", "helpful": "perhaps"}, "helpful:"),
        ({"question": "問題?", "helpful": True, "paragraph": "seven"}, "paragraph:"),
        ({"question": "問" * 1001, "helpful": True}, "the limit is 1000"),
        ({"question": "問題?", "helpful": False, "correct_answer": "x", "correct_paragraph": 9999},
         "correct_paragraph: the document has no paragraph 9999"),
        ({"question": "問題?", "helpful": False, "correct_answer": "x", "correct_paragraph": "box:沒有這個框"},
         "correct_paragraph: no paragraph, box or passage 'box:沒有這個框'"),
        # only what is in the document is stored: nothing made up, nothing out of range (never a 500)
        ({"question": "問題?", "helpful": True, "passage_id": "../../etc/passwd"},
         "passage_id: no passage '../../etc/passwd' in the document"),
        ({"question": "問題?", "helpful": True, "passage_id": "p" * 201}, "passage_id: 201 characters long"),
        ({"question": "問題?", "helpful": True, "paragraph": -3}, "paragraph: Input should be greater than or equal"),
        ({"question": "問題?", "helpful": True, "paragraph": 10**30}, "paragraph:"),
        ({"question": "問題?", "helpful": True, "paragraph": 999}, "paragraph: the document has no paragraph 999"),
        ({"question": "問題?", "helpful": True, "passage_id": "p121", "paragraph": 5},
         "paragraph: passage 'p121' is paragraph 121, not 5"),
        ({"question": "問題?", "helpful": False, "correct_paragraph": 10**30}, "correct_paragraph:"),
        ({"question": "問題?", "helpful": False, "correct_paragraph": "1" * 40}, "correct_paragraph:"),
        ({"question": "問題?", "helpful": False, "correct_paragraph": 0}, "correct_paragraph:"),
        ({"question": "問題?", "helpful": True, "answer": "答" * 1001}, "answer: 1001 characters long"),
        ({"question": "問題?", "helpful": True, "extra": "field"}, "extra: Extra inputs are not permitted"),
    ],
)
def test_bad_feedback_gets_a_readable_422(client, body, message):
    r = client.post("/v1/feedback", json=body)
    assert r.status_code == 422
    assert message in r.json()["error"]


def test_round_trip_post_export_eval(client, pipeline, settings, tmp_path, capsys):
    # 1. a reader asks, likes the answer: it becomes a gold answer with its cited paragraph
    asked = client.post("/v1/ask", json={"question": "2022年世界人口達到了多少?"}).json()
    top = asked["answers"][0]
    ids = [_post(client, question=asked["question"], answer=top["text"], passage_id=top["id"],
                 paragraph=top["paragraph"], helpful=True).json()["id"]]
    # 2. a reader marks an answer wrong and says where the right one is (a box, by title)
    ids.append(_post(client, question="為了終結塑料污染,會員國商定在哪一年前達成一項新的國際協定?", answer="2022年",
                     passage_id="p24", paragraph=24, helpful=False, correct_answer="2024年",
                     correct_paragraph="box:终结塑料污染").json()["id"])
    # 3. "the document does not say", and the reader agrees: an unanswerable question
    ids.append(_post(client, question="聯合國總部大樓有幾層?", answer=None, helpful=True).json()["id"])
    # 4. unhelpful with no correction: nothing to learn from, so not exported
    skipped = _post(client, question="毫無用處的回答?", answer="某物", passage_id="p1", paragraph=1,
                    helpful=False).json()["id"]

    out = tmp_path / "feedback.jsonl"
    assert main(["feedback", "export", "--index-dir", str(settings.resolved_index_dir), "--output", str(out)]) == 0
    assert "exported" in capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    mine = {r["feedback_id"]: r for r in rows if r["feedback_id"] in ids + [skipped]}
    assert set(mine) == set(ids)
    assert mine[ids[0]]["answers"] == [top["text"]] and mine[ids[0]]["paragraph"] == top["paragraph"]
    assert mine[ids[1]]["answers"] == ["2024年"] and mine[ids[1]]["paragraph"] == "box:终结塑料污染"
    assert mine[ids[2]]["answers"] == [] and mine[ids[2]]["paragraph"] is None
    assert mine[ids[2]]["type"] == "unanswerable" and mine[ids[0]]["script"] == "traditional"
    assert mine[ids[0]]["client"] == "ip:testclient"  # who sent it, for quotas and abuse handling

    # the export is a data set `qa eval` reads; the service agrees with its own liked answer
    mine_file = tmp_path / "mine.jsonl"
    mine_file.write_text("".join(json.dumps(mine[i], ensure_ascii=False) + "\n" for i in ids), encoding="utf-8")
    questions = load_dataset(mine_file)
    assert [q.gold for q in questions] == [top["paragraph"], "box:终结塑料污染", None]
    result = evaluate(pipeline, questions, progress=False)
    liked = result["questions"][0]
    assert liked["em"] == 1.0 and liked["citation_correct"] is True
    assert result["dataset"]["answerable"] == 2 and result["dataset"]["unanswerable"] == 1
    assert result["questions"][1]["gold_rank"] is not None  # the box was found among the top 10


def test_a_store_from_before_client_tracking_gains_the_column(tmp_path):
    import sqlite3

    from qa.feedback import Feedback

    path = tmp_path / "old.feedback.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, "
                     "question TEXT NOT NULL, answer TEXT, passage_id TEXT, paragraph INTEGER, box TEXT, "
                     "helpful INTEGER NOT NULL, correct_answer TEXT, correct_paragraph TEXT, gold TEXT, "
                     "corpus_sha256 TEXT)")
        conn.execute("INSERT INTO feedback (created, question, helpful) VALUES ('2024-01-01T00:00:00Z', '舊?', 1)")
    store = FeedbackStore(path, quota=1)
    store.add(Feedback(question="新?", helpful=True, client="ip:192.0.2.1"))
    assert [(r["question"], r["client"]) for r in store.rows()] == [("舊?", None), ("新?", "ip:192.0.2.1")]
