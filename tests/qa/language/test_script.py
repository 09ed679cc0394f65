"""Script detection and question conversion (OpenCC, character level: lengths are kept)."""

from __future__ import annotations

import pytest

from qa.language.script import in_script, script_of


@pytest.mark.parametrize(
    ("text", "script"),
    [("巴基斯坦的暴雨洪灾波及了多少人?", "simplified"), ("聯合國的預算是多少?", "traditional"),
     ("How many people?", None), ("2022年", None)],
)
def test_script_of(text, script):
    assert script_of(text) == script


def test_questions_are_read_in_the_passage_script():
    simplified = "巴基斯坦的暴雨洪灾波及了多少人?"
    assert in_script(simplified, "traditional") == "巴基斯坦的暴雨洪災波及了多少人?"
    assert in_script("聯合國的預算是多少", "simplified") == "联合国的预算是多少"
    assert in_script(simplified, "simplified") == simplified  # already in that script
    assert in_script("How many people?", "traditional") == "How many people?"
    assert in_script(simplified, None) == simplified  # a passage with no script-specific characters
    assert len(in_script(simplified, "traditional")) == len(simplified)
