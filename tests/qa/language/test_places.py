"""English place names in a question (qa/language/places.py), read with the bundled CLDR table and CC-CEDICT."""

from __future__ import annotations

import pytest

from qa.language.names import missing_names, question_names
from qa.language.places import english_places, with_short_forms


def keys(question: str) -> list[str]:
    return [name.key for name in english_places(question)]


@pytest.mark.parametrize(("question", "places"), [
    ("How many people in Haiti needed humanitarian assistance in 2022?", ["haiti"]),  # dev2-139
    ("Did Pakistan and South Sudan sign?", ["pakistan", "south sudan"]),  # the longer name, not Sudan inside it
    ("Pakistan's floods: how many died?", ["pakistan"]),  # the question's first word may be the place
    ("What did Côte d’Ivoire and the Democratic Republic of the Congo agree?",
     ["côte d'ivoire", "democratic republic of the congo"]),
    ("How many refugees are there in Myanmar, also called Burma?", ["myanmar", "burma"]),
    ("In what year was the South China Morning Post privatized?", []),  # part of a longer proper name
    ("How was Sanmen County established in the 29th year of the Republic of China?", []),
    ("Along with the China–India Hump route, which road was built in 1938?", []),  # a compound
    ("How many US dollars did it receive?", []),  # "US" is mostly an adjective: not read as a place
    ("How many people came online in the world?", []),
])
def test_places_are_whole_names_not_parts_of_longer_ones(question, places):
    assert keys(question) == places


def test_a_chinese_passage_holds_a_place_by_its_chinese_names_in_any_script():
    haiti, = english_places("How many people in Haiti needed assistance?")
    assert missing_names([haiti], "在多民族玻利維亞國、海地、黎巴嫩和利比亞舉辦了數字對話") == []
    assert missing_names([haiti], "向整個薩赫勒地區的約2000萬人提供了人道主義援助") == [haiti]
    italy, = english_places("Who founded Italy?")
    assert missing_names([italy], "義大利王國成立於1861年") == []  # Taiwan's spelling (CLDR zh_Hant)
    assert missing_names([italy], "意大利王国成立于1861年") == []  # the mainland's (CLDR zh_Hans)
    congo, = english_places("Which rebels are active in Congo?")
    assert missing_names([congo], "剛果民主共和國東部的武裝團體") == []  # "剛果（金夏沙）" is 剛果 without its note


def test_a_passage_not_in_chinese_is_not_asked_for_an_english_place():
    france, = english_places("What did France sign?")
    assert missing_names([france], "The French government signed the treaty.") == []
    assert missing_names([france], "法國政府簽署了條約") == []
    assert missing_names([france], "德國政府簽署了條約") == [france]


def test_a_country_is_also_held_by_its_short_form_in_chinese_compounds():
    passage = "清廷依《中英天津條約》賠償白銀四百萬兩"  # 英國 is 英 in 中英
    question = question_names("清廷必須賠償英國多少銀兩?")
    assert [name.key for name in missing_names(question, passage)] == ["英国"]
    assert missing_names(with_short_forms(question), passage) == []
    japan, = english_places("What was Ta Kung Pao's stance toward Japan?")
    assert missing_names([japan], "七七事變後，《大公報》主張抗日") == []  # 抗日: resisting Japan
    haiti, = with_short_forms(question_names("海地有多少人?"))  # no short form: as before
    assert missing_names([haiti], "薩赫勒地區的約2000萬人") == [haiti]
