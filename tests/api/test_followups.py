"""Follow-up questions in every route: `history` in /v1/ask and /v1/ask/stream (bad history a 422 naming the field),
the whole `messages` list of /v1/chat/completions through the real `openai` SDK, `qa chat` in a terminal, and the
answer as the conversation resolved the question (`resolved_question`)."""

from __future__ import annotations

import json
import subprocess
import sys

import openai
import pytest

FLOODS = "巴基斯坦的暴雨洪灾波及了多少人?"
HISTORY = [{"role": "user", "content": FLOODS}, {"role": "assistant", "content": "3300萬人 [¶121]"}]
FOLLOW_UP = "那流離失所的呢?"


def events(text: str) -> dict:
    out = {}
    for block in text.strip().split("\n\n"):
        name = next(line[7:] for line in block.splitlines() if line.startswith("event: "))
        out[name] = json.loads(next(line[6:] for line in block.splitlines() if line.startswith("data: ")))
    return out


def test_a_follow_up_with_its_history_is_answered_from_the_conversation(client):
    alone = client.post("/v1/ask", json={"question": FOLLOW_UP}).json()
    assert alone["resolved_question"] == FOLLOW_UP and not any("800萬人" in a["text"] for a in alone["answers"])
    body = client.post("/v1/ask", json={"question": FOLLOW_UP, "history": HISTORY}).json()
    assert body["answers"][0]["text"] == "800萬人" and body["answers"][0]["paragraph"] == 121
    assert body["question"] == FOLLOW_UP and body["resolved_question"] != FOLLOW_UP and "巴基斯坦" in body[
        "resolved_question"]


def test_a_single_question_is_answered_as_before(client, pipeline):
    body = client.post("/v1/ask", json={"question": FLOODS, "history": []}).json()
    want = pipeline.ask(FLOODS, use_cache=False)
    assert [a["text"] for a in body["answers"]] == [a.text for a in want.answers]
    assert body["resolved_question"] == FLOODS


def test_a_topic_shift_does_not_drag_the_old_topic_in(client):
    shift = "2022年全球人口突破了哪個里程碑數字?"
    body = client.post("/v1/ask", json={"question": shift, "history": HISTORY}).json()
    assert body["resolved_question"] == shift and body["answers"][0]["text"] == "80億"


def test_the_stream_carries_the_resolved_question(client):
    r = client.post("/v1/ask/stream", json={"question": FOLLOW_UP, "history": HISTORY})
    got = events(r.text)
    assert got["passages"]["resolved_question"] != FOLLOW_UP and got["answer"]["answers"][0]["text"] == "800萬人"


@pytest.mark.parametrize(("history", "field"), [
    ([{"role": "system", "content": "be brief"}], "history.0.role"),
    ([{"role": "user", "content": FLOODS}, {"role": "assistant", "content": "  "}], "history.1.content"),
    ([{"role": "user", "content": "x" * 1001}], "history.0.content"),
    ([{"role": "user"}], "history.0.content"),
    ([{"role": "user", "content": "a", "name": "x"}], "history.0.name"),
    ([{"role": "user", "content": "a"}] * 21, "history"),
    ("not a list", "history"),
])
def test_bad_history_is_a_422_naming_the_field(client, history, field):
    for route in ("/v1/ask", "/v1/ask/stream"):
        r = client.post(route, json={"question": FOLLOW_UP, "history": history})
        assert r.status_code == 422 and r.json()["error"].startswith(field), (route, r.json())


@pytest.fixture(scope="module")
def sdk(live) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.url}/v1", api_key="unused", max_retries=0, timeout=60)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_the_chat_endpoint_uses_the_whole_conversation(sdk, stream):
    messages = [{"role": "system", "content": "Answer from the report."}, *HISTORY,
                {"role": "user", "content": FOLLOW_UP}]
    if stream:
        chunks = sdk.chat.completions.create(model="cited-qa", messages=messages, stream=True)
        content = "".join(c.choices[0].delta.content or "" for c in chunks)
    else:
        content = sdk.chat.completions.create(model="cited-qa", messages=messages).choices[0].message.content
    assert content.startswith("800萬人 [¶121]")
    first = sdk.chat.completions.create(model="cited-qa", messages=[{"role": "user", "content": FOLLOW_UP}])
    assert not first.choices[0].message.content.startswith("800萬人")  # alone, the follow-up has no topic


def test_qa_chat_keeps_the_conversation_in_the_terminal(settings, pipeline):  # pipeline: the index it reads
    script = f"{FLOODS}\n{FOLLOW_UP}\n/clear\n{FOLLOW_UP}\n"
    r = subprocess.run([sys.executable, "-m", "qa.cli", "chat", "--json", "--index-dir", str(settings.index_dir)],
                       input=script, capture_output=True, text=True, timeout=300,
                       env={"QA_HOME": str(settings.home), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    turns = [json.loads(line) for line in r.stdout.splitlines()]
    assert [t["question"] for t in turns] == [FLOODS, FOLLOW_UP, FOLLOW_UP]
    assert turns[0]["answers"][0]["text"] == "3300萬人" and turns[1]["answers"][0]["text"] == "800萬人"
    assert turns[2]["resolved_question"] == FOLLOW_UP  # after /clear the conversation starts afresh
