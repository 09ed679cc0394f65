from __future__ import annotations

import json

import pytest


def test_health(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["passages"] == 165 and body["model"] == "multilingual-e5-small"


def test_search(client):
    r = client.post("/v1/search", json={"question": "联合国支持的多边裁军谈判最终要实现什么?", "top_k": 3})
    assert r.status_code == 200
    passages = r.json()["passages"]
    assert len(passages) == 3 and passages[0]["paragraph"] == 134
    assert {"score", "dense_score", "sparse_score", "section", "text"} <= set(passages[0])


def test_ask_shape(client):
    r = client.post("/v1/ask", json={"question": "巴基斯坦的暴雨洪灾波及了多少人?"})
    assert r.status_code == 200
    body = r.json()
    top = body["answers"][0]
    assert body["no_answer"] is False and top["paragraph"] == 121 and "3300萬人" in top["text"]
    passage = next(p for p in body["passages"] if p["id"] == top["id"])
    assert passage["text"][top["start"] : top["end"]] == top["text"]
    assert passage["text"][top["context_start"] :].startswith(top["context"])
    assert set(body["timings_ms"]) - {"cached"} == {"retrieve", "read", "total"}  # "cached": asked before


def test_no_answer_names_the_numbers_no_passage_holds(client):
    body = client.post("/v1/ask", json={"question": "兩個人道主義集合基金2017年為阿富汗撥了多少款?"}).json()
    assert body["no_answer"] is True and body["unmatched_numbers"] == ["2017"]
    answered = client.post("/v1/ask", json={"question": "2022年全球人口突破了哪個里程碑數字?"}).json()
    assert answered["no_answer"] is False and answered["unmatched_numbers"] == []
    # the report never names Haiti: the message says so, in the question's script
    body = client.post("/v1/ask", json={"question": "2022年联合国在海地为多少人提供了人道主义援助?"}).json()
    assert body["no_answer"] is True and body["unmatched_names"] == ["海地"] and body["unmatched_numbers"] == []
    assert body["message"].endswith("(找到的段落都没有提到 海地。)")


def test_answers_carry_one_citation_label_and_message_in_the_question_or_requested_language(client):
    """qa/present.py says where an answer is and why there is none, for the API, CLI, chat and widget alike."""
    section = "E. 有效協調人道主義援助"
    chinese = client.post("/v1/ask", json={"question": "巴基斯坦的暴雨洪灾波及了多少人?"}).json()
    assert chinese["answers"][0]["citation"] == f"第121段 · {section}" and chinese["message"] is None
    asked_en = client.post("/v1/ask", json={"question": "巴基斯坦的暴雨洪灾波及了多少人?", "language": "en"}).json()
    assert asked_en["answers"][0]["citation"] == f"¶121 · {section}"
    assert asked_en["passages"][0]["citation"].startswith("¶")
    withheld = client.post("/v1/ask", json={"question": "兩個人道主義集合基金2017年為阿富汗撥了多少款?"}).json()
    sentence, numbers = withheld["message"].split("\n")
    assert sentence.startswith("文件中似乎沒有這個問題的答案") and numbers == "(找到的段落都沒有提到 2017。)"
    assert client.post("/v1/ask", json={"question": "多少人?", "language": "fr"}).status_code == 422


def test_a_small_answer_score_keeps_its_digits():
    """A shown answer may score far below 1e-4 (thresholds are settings): rounding to 4 places would
    report it as 0, and `qa eval --url` would then score it as withheld."""
    from qa.present import answer_dict
    from qa.types import Answer, Passage

    passage = Passage(id="p23", text="53億人已經接入互聯網", order=23, paragraph=23)
    body = json.loads(json.dumps(answer_dict(Answer("53億人", 3.21e-7, passage, 0, 4, passage.text))))
    assert body["score"] == 3.21e-7


def test_passage_lookup(client):
    assert client.get("/v1/passages/p119").json()["paragraph"] == 119
    r = client.get("/v1/passages/p999")
    assert r.status_code == 404 and "p999" in r.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": ""}, "question: the question is empty"),
        ({"question": "   "}, "question: the question is empty"),
        ({"question": "問" * 1001}, "the limit is 1000"),
        ({"question": "有效?", "top_k": 0}, "top_k"),
        ({"question": "有效?", "top_k": 51}, "top_k"),
        ({"question": 42}, "question"),
        ({}, "question: Field required"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/search", "/v1/ask"])
def test_bad_input_is_a_readable_422(client, path, body, message):
    r = client.post(path, json=body)
    assert r.status_code == 422
    assert message in r.json()["error"]


def test_not_json_is_422_not_500(client):
    r = client.post("/v1/ask", content=b"{broken", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "error" in r.json()


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    assert "/v1/ask" in client.get("/openapi.json").json()["paths"]


def test_configured_top_k_is_the_default_and_max_top_k_the_limit(pipeline, monkeypatch):
    """QA_TOP_K and QA_MAX_TOP_K reach the HTTP API: one source of settings."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from qa.config import Settings
    from qa.pipeline import Pipeline

    monkeypatch.setenv("QA_TOP_K", "3")
    monkeypatch.setenv("QA_MAX_TOP_K", "4")
    settings = Settings(home=pipeline.settings.home, index_dir=pipeline.settings.index_dir)
    p = Pipeline(settings)
    p.embedder, p.reader = pipeline.embedder, pipeline.reader  # the loaded models; only settings differ
    with TestClient(create_app(settings, p)) as c:
        question = {"question": "2022年全球人口突破了哪個里程碑數字?"}
        assert len(c.post("/v1/ask", json=question).json()["passages"]) == 3
        assert len(c.post("/v1/search", json=question).json()["passages"]) == 3
        assert len(c.post("/v1/ask", json={**question, "top_k": 2}).json()["passages"]) == 2  # the request wins
        r = c.post("/v1/ask", json={**question, "top_k": 5})
        assert r.status_code == 422 and "top_k: must be between 1 and 4" in r.json()["error"]
