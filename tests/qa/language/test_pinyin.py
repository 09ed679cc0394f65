"""Chinese names an English question spells in pinyin (qa/language/pinyin.py), read with CC-CEDICT's readings."""

from __future__ import annotations

import pytest

from qa.language.names import missing_names
from qa.language.pinyin import MAX_SPELLINGS, held_names, pinyin_names


def written(question: str) -> list[str]:
    return [name.written for name in pinyin_names(question)]


@pytest.mark.parametrize(("question", "names"), [
    ("Who knew Zhu Di's tactics well and made the Yan army lose battles?", ["Zhu Di"]),  # one syllable: not a name
    ("What was Wei Yijie's courtesy name?", ["Wei Yijie"]),
    ("In what year did Mao Zedong die?", ["Mao Zedong"]),  # "mao" is in a few glosses (a tenth of a yuan)
    ("Which river flows through Heilongjiang and Xi'an?", ["Heilongjiang", "Xi'an"]),  # an apostrophe parts syllables
    ("What happened on the Long March?", []),  # English words
    ("How many people in Haiti needed assistance?", []),  # a place: qa/language/places.py reads it
    ("Why did Hayato Ikeda resign?", []),  # not pinyin ("to", "i")
    ("What nationality was Henry Luce?", ["Luce"]),  # a foreign name may spell pinyin: see held_names
])
def test_names_are_runs_of_capitalised_pinyin_words_of_two_syllables_or_more(question, names):
    assert written(question) == names


def test_a_passage_holds_a_name_where_its_characters_read_it_in_either_script():
    zhu_di, = pinyin_names("Who knew Zhu Di's tactics well?")
    assert zhu_di.forms_in("燕王朱棣熟知戰術") == {"朱棣"}
    assert zhu_di.forms_in("明成祖即位後遷都北京") == set()  # another name for him: not read as his
    wei, = pinyin_names("What was Wei Yijie's courtesy name?")
    assert wei.forms_in("魏裔介，字石生") == {"魏裔介"}


def test_a_name_counts_only_where_a_passage_found_holds_it():
    question = "In what year did Zhu Di become emperor?"
    passages = ["朱棣的父親是朱元璋。", "朱高熾是明朝第四位皇帝，1424年即位。"]
    name, = held_names(question, passages)
    assert name.key == "zhu di" and name.forms == ("朱棣",)
    assert [bool(missing_names([name], text)) for text in passages] == [False, True]
    # a foreign name that spells pinyin ("ka lu ga") is held by no passage: nothing is asked
    assert held_names("How long is Kaluga Oblast from west to east?", ["卡盧加州東西長220公里"]) == []


def test_a_long_question_of_pinyin_like_words_is_cut_short_not_explored():
    # a word longer than three syllables can be is not split at all (a 1,000-character one took 1.5 s before)
    assert pinyin_names("Who is " + "Ba" * 450 + "?") == []
    # a run of many words keeps at most MAX_SPELLINGS ways to read it, not every product of its words' splits
    name, = pinyin_names("Who is " + " ".join(["Xinan"] * 60) + "?")
    assert 1 <= len(name.spellings) <= MAX_SPELLINGS
