"""The one question validator: what it folds, what it drops, what it refuses and why."""

from __future__ import annotations

import pytest

from qa.language.text import MAX_MARKS, QuestionError, check_question


def refusal(question: str) -> str:
    with pytest.raises(QuestionError) as info:
        check_question(question, 1000)
    message = str(info.value)
    message.encode("utf-8")  # no input echoed: a lone surrogate in it could not even be sent back
    assert "\n" not in message and info.value.field == "question"
    return message


@pytest.mark.parametrize(("question", "cleaned"), [
    ("  巴基斯坦的暴雨洪灾\u3000波及了多少人？ ", "巴基斯坦的暴雨洪灾 波及了多少人?"),  # NFKC width, whitespace
    ("\ufeff聯合國\u200b在哪裡\u200c\u200d\u2060?", "聯合國在哪裡?"),  # zero-width and BOM dropped
    ("Vie\u0323\u0302t Nam?", "Việt Nam?"),  # composed (NFKC includes NFC)
    ("tab\tand\nnewline", "tab and newline"),
    ("\U0001F468\u200d\U0001F469 family", "\U0001F468\U0001F469 family"),  # a joined emoji loses its joiner
    ("a" + "\u0301" * MAX_MARKS, "\u00e1" + "\u0301" * (MAX_MARKS - 1)),  # within the limit
])
def test_accepted_questions_are_cleaned(question, cleaned):
    assert check_question(question, 1000) == cleaned


@pytest.mark.parametrize(("question", "reason"), [
    ("\ud800", "an unpaired surrogate (U+D800 at character 1)"),
    ("問題\udfff", "an unpaired surrogate (U+DFFF at character 3)"),
    ("caf\udce9", "an unpaired surrogate (U+DCE9 at character 4)"),  # invalid UTF-8 in argv, decoded by Python
    ("a\x00b", "a control character (U+0000 at character 2)"),
    ("bell\x07", "a control character (U+0007 at character 5)"),
    ("\x1b[31mred", "a control character (U+001B at character 1)"),
    ("\x9b", "a control character (U+009B at character 1)"),
])
def test_not_text_is_refused(question, reason):
    assert refusal(question) == f"the question contains {reason}, which is not text"


@pytest.mark.parametrize("question", ["", "   ", "\u3000\n\t", None])
def test_blank_is_empty(question):
    assert refusal(question) == "the question is empty"


@pytest.mark.parametrize("question", ["\u200b", "\ufeff", "\u200b\u200c\u200d\u2060\ufeff", " \ufeff ", "\u0301\u0301",
                                      "\u00ad"])
def test_only_invisible_characters_is_empty(question):
    assert refusal(question).startswith("the question is empty: it has only invisible characters")


def test_stacked_combining_marks_are_refused():
    assert refusal("a" + "\u0301" * 999) == "the question stacks 998 combining marks on one character; the limit is 4"
    assert "stacks 5 combining marks" in refusal("問" + "\u0300" * 5 + "題")


def test_length_is_counted_after_cleaning():
    assert check_question("\u200b" * 500 + "問" * 1000, 1000) == "問" * 1000
    assert refusal("問" * 1001) == "the question is 1001 characters long; the limit is 1000"
