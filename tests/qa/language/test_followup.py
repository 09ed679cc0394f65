"""Deciding whether a question follows on from the conversation, and the question it stands for (no models)."""

from __future__ import annotations

import pytest

from qa.language.followup import answer_text, follows_on, resolve
from qa.types import Turn

FLOODS = [Turn("user", "巴基斯坦的暴雨洪灾波及了多少人?"), Turn("assistant", "3300萬人 (¶121)")]
ETHIOPIA = [Turn("user", "How many people did the UN help in Ethiopia in 2022?"), Turn("assistant", "1300萬人")]
OFFICE = [Turn("user", "大會批准成立了什麼辦公室?"), Turn("assistant", "聯合國青年問題辦公室")]


@pytest.mark.parametrize("question", ["那流離失所的呢?", "它是哪一年成立的?", "該基金撥了多少款?", "價值多少?",
                                      "What about Afghanistan?", "And in 2021?", "When did it open?", "How much?"])
def test_cues_and_short_questions_follow_on(question):
    assert follows_on(question)


@pytest.mark.parametrize("question", ["聯合國維和行動有多少名人員?", "Who chairs the Security Council in 2022?",
                                      "應該在哪一年實現可持續發展目標?"])  # 應該 is "should", not 該 (that)
def test_complete_questions_show_no_cue(question):
    assert not follows_on(question)


def test_without_history_a_question_stands_alone():
    r = resolve("那2021年呢?", [])
    assert not r.follows and r.resolved == "那2021年呢?"


def test_ellipsis_swaps_the_year_or_the_name_it_replaces():
    assert resolve("And in 2021?", ETHIOPIA).resolved == "How many people did the UN help in Ethiopia in 2021?"
    assert resolve("What about Afghanistan?", ETHIOPIA).resolved == (
        "How many people did the UN help in Afghanistan in 2022?")


def test_a_pronoun_becomes_the_previous_answer_when_that_is_a_name():
    assert resolve("它是哪一年成立的?", OFFICE).resolved == "聯合國青年問題辦公室是哪一年成立的?"
    assert resolve("其負責人是誰?", OFFICE).resolved == "聯合國青年問題辦公室的負責人是誰?"


def test_otherwise_the_previous_question_is_given_beside_it():
    r = resolve("那流離失所的呢?", FLOODS)
    assert r.follows and r.resolved == "那流離失所的呢? (巴基斯坦的暴雨洪灾波及了多少人)"
    assert r.answer_markers == [121] and r.answer_span == "3300萬人"


def test_a_question_without_cues_is_left_for_retrieval_to_decide():
    history = [Turn("user", "聯合國為多少個國家的監獄部門提供了培訓?"), Turn("assistant", "30個國家")]
    r = resolve("一共培訓了多少人?", history)
    assert r.follows and not r.certain  # qa/retrieval/followup.py decides: a topic shift or a missing subject
    assert resolve("它是哪一年成立的?", OFFICE).certain


def test_a_chain_of_follow_ups_keeps_the_topic():
    history = [*ETHIOPIA, Turn("user", "What about Afghanistan?"), Turn("assistant", "2600多萬人")]
    r = resolve("And in 2021?", history)
    assert r.previous == "How many people did the UN help in Afghanistan in 2022?"
    assert r.resolved == "How many people did the UN help in Afghanistan in 2021?"


def test_an_answer_that_only_repeats_the_previous_one_is_recognised():
    r = resolve("分布在多少個特派團?", [Turn("user", "有多少名聯合國警察?"), Turn("assistant", "10000多名聯合國警察")])
    assert r.repeats("10000多名") and r.repeats("10000多名聯合國警察,分布在")  # a part, or the whole and more
    assert not r.repeats("19個特派團")
    years = resolve("那2021年呢?", [Turn("user", "2022年撥款多少?"), Turn("assistant", "2022年撥款3億美元")])
    assert years.repeats("3億美元") and not years.repeats("2021年")  # a figure repeats; a year may not


def test_the_answer_is_read_out_of_a_chat_reply():
    assert answer_text('3300萬人 [¶121]\n\nSources: ¶121 (E. 有效協調人道主義援助) "…"') == "3300萬人"
    assert answer_text("800萬人 (第121段 · E. 有效協調人道主義援助)") == "800萬人"
    r = resolve("Where?", [Turn("user", "How many?"), Turn("assistant", "56000多名年輕人 were reached.")])
    assert r.answer_quote == "56000多名年輕人"
