"""Generated input: arbitrary unicode questions through the one validator and the search, and every
operation of the live OpenAPI schema through schemathesis. Either a 4xx or an answer, never a 5xx."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st

from api.app import create_app
from qa.config import Settings
from qa.language.text import QuestionError, check_question
from qa.pipeline import Pipeline
from qa.types import Hit

pytestmark = pytest.mark.slow


@given(question=st.text(alphabet=st.characters(codec="utf-8"), max_size=1200))
@settings(max_examples=150, deadline=None)
def test_any_question_is_refused_with_a_reason_or_searched(pipeline, question):
    """Anything a UTF-8 JSON string or a command line can carry (controls, emoji, astral planes, marks)."""
    try:
        cleaned = check_question(question, pipeline.settings.max_question_chars)
    except QuestionError as exc:
        assert str(exc)
        return
    assert cleaned and len(cleaned) <= pipeline.settings.max_question_chars
    hits = pipeline.search(question)
    assert hits and all(isinstance(h, Hit) for h in hits)


def test_a_lone_surrogate_in_a_question_is_a_422(live):
    r = httpx.post(f"{live.url}/v1/ask", content=b'{"question": "\\ud800\\u554f\\u984c"}',
                   headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 422


# the schema of the app the live server runs, built without loading anything (schemathesis'
# lazy fixture loader does not work with this pytest); the first test checks it is the served one
OPENAPI = create_app(Settings(), Pipeline(Settings())).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


def test_the_fuzzed_schema_is_the_one_served(live):
    assert httpx.get(f"{live.url}/openapi.json", timeout=30).json() == OPENAPI


@schema.parametrize()
@settings(max_examples=25, deadline=timedelta(seconds=10))
def test_no_generated_request_gets_a_server_error(case, live):
    response = case.call(base_url=live.url, timeout=30)
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: " \
                                       f"{response.text[:300]} (body {case.body!r:.300})"
