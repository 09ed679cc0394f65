"""The CC-CEDICT bridge: an English question gets the passage's own words for its keywords."""

from __future__ import annotations

from qa.bridge import SEARCH_MAX, bridged, keyword_query, passage_keywords

PASSAGE = "截至2023年6月中旬，根據黑海穀物倡議，已有3200多萬噸穀物和其他食品從烏克蘭出口。"
QUESTION = "By mid-June 2023, what volume of grain had been exported under the Black Sea Initiative?"


def test_keywords_are_the_passages_own_words():
    words = passage_keywords(QUESTION, PASSAGE)
    assert {"黑海", "穀物"} <= set(words) and all(w in PASSAGE for w in words)
    assert bridged(QUESTION, PASSAGE).startswith(QUESTION + " (")


def test_simplified_passages_get_simplified_words():
    assert "谷物" in passage_keywords(QUESTION, "黑海谷物倡议的出口")


def test_no_match_leaves_the_question_alone():
    assert bridged(QUESTION, "聯合國秘書長的報告") == QUESTION
    assert bridged("What is it?", PASSAGE) == "What is it?"  # only stop words: nothing to look up


def test_the_keyword_query_adds_chinese_words_in_both_scripts_whatever_the_passage():
    query = keyword_query(QUESTION)
    added = query.removeprefix(QUESTION + " ").split()
    assert query.startswith(QUESTION + " ") and "黑海" in added and {"穀物", "谷物"} & set(added)
    assert 0 < len(added) <= SEARCH_MAX
    assert keyword_query("What is it?") == "What is it?"
