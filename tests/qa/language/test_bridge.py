"""The CC-CEDICT bridge: an English question gets the passage's own words for its keywords."""

from __future__ import annotations

from qa.language.bridge import SEARCH_MAX, bridged, keyword_coverage, keyword_query, passage_keywords

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


def test_a_chinese_name_in_pinyin_is_looked_up_by_its_pinyin():
    # CC-CEDICT glosses 浙江 "Zhejiang province (Chekiang) in east China, …": no gloss key is "zhejiang"
    added = keyword_query("Who succeeded Yang Shande as military governor of Zhejiang?").split()
    assert added[added.index("Zhejiang?") + 1] == "浙江"  # the name's own word comes first
    words = passage_keywords("In what year did Duan Qirui's government sign the loans?", "段祺瑞政府與日本簽訂借款")
    assert "段祺瑞" in words


def test_a_whole_name_is_not_also_looked_up_by_its_parts():
    query = keyword_query("What did Duan Qirui command?")
    assert "段祺瑞" in query and "奇瑞" not in query.replace("段祺瑞", "")  # "Qirui" alone is a car maker


def test_only_capitalised_words_are_taken_for_names():
    assert "浙江" not in keyword_query("what is zhejiang known for?").split()[5:]


def test_keyword_coverage_drops_when_the_passage_lacks_what_the_question_names():
    # dev2-135's kind of near miss: the passage is about the topic, not about the place the question names
    question = "How many people in Haiti needed humanitarian assistance in 2022?"
    about_haiti = "2022年，海地有520萬人需要人道主義援助。"
    elsewhere = "2022年，聯合國及其夥伴向2.16億人提供了人道主義援助。"
    assert 0.0 < keyword_coverage(question, elsewhere) < keyword_coverage(question, about_haiti) <= 1.0


def test_keyword_coverage_of_a_question_with_no_glossed_word_is_unknown():
    assert keyword_coverage("What is it?", PASSAGE) is None
