"""Questions that are not text, or only invisible text, through the real app: a 422 with one `error` line on
every question route (never a 500, never a stream that fails after its 200), and what is accepted is cleaned."""

from __future__ import annotations

import json

import pytest

ROUTES = ["/v1/ask", "/v1/search", "/v1/ask/stream"]
# raw JSON, as a client sends it: "\ud800" is valid JSON and reaches Python as a lone surrogate
BAD = {
    "lone high surrogate": (rb'{"question": "\ud800"}', "unpaired surrogate (U+D800"),
    "lone low surrogate": (rb'{"question": "\udfff\u554f\u984c"}', "unpaired surrogate (U+DFFF"),
    "zero-width only": (rb'{"question": "\u200b\u200c\u200d\u2060"}', "the question is empty"),
    "BOM only": (rb'{"question": "\ufeff"}', "the question is empty"),
    "a + 999 accents": (json.dumps({"question": "a" + "\u0301" * 999}).encode(), "stacks 998 combining marks"),
    "NUL": (rb'{"question": "\u554f\u0000"}', "control character (U+0000"),
    "escape": (rb'{"question": "\u001b[2J\u554f"}', "control character (U+001B"),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", BAD)
def test_bad_questions_are_a_422_with_a_reason(client, route, case):
    body, reason = BAD[case]
    r = client.post(route, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error.startswith("question: ") and reason in error and "\n" not in error


def test_invisible_characters_are_dropped_from_an_asked_question(client):
    r = client.post("/v1/ask", json={"question": "\ufeff巴基斯坦的暴雨洪灾\u200b波及了多少人?"})
    assert r.status_code == 200 and r.json()["question"] == "巴基斯坦的暴雨洪灾波及了多少人?"
    assert r.json()["passages"][0]["id"] == "un-sg-report-2023-zh-hant:p121"
