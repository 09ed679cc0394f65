"""What a question's numbers ask of a passage (qa/language/numbers.py)."""

from __future__ import annotations

import pytest

from qa.language.numbers import (
    missing_numbers,
    question_numbers,
    restates_number,
    unmatched_numbers,
    with_arabic_numerals,
)


@pytest.mark.parametrize(
    ("text", "arabic"),
    [
        ("第二十七屆會議", "第27屆會議"),
        ("二〇二二年", "2022年"),
        ("一百二十萬人", "120萬人"),
        ("十年", "10年"),
        ("１６０萬", "160萬"),
        ("176,800人", "176800人"),
    ],
)
def test_numbers_are_read_in_every_notation(text, arabic):
    assert with_arabic_numerals(text) == arabic


def test_a_question_names_its_arabic_numbers_and_its_ordinals():
    assert question_numbers("How many satellites were registered in 2021, out of 1,500?") == ["1500", "2021"]
    assert question_numbers("2022至2023年度預算是多少?") == ["2022", "2023"]
    assert question_numbers("二〇二一年批准了多少資金?") == []  # other Chinese numerals in a question are not counted
    assert question_numbers("十分之一的人口有多少?") == []
    assert question_numbers("全球减少灾害风险平台第七届会议在哪座城市召开?") == ["7"]  # an ordinal with its counter
    assert question_numbers("締約方第二十七屆會議在哪裡舉行?") == ["27"]
    assert question_numbers("What warming limit is 1.5 degrees?") == ["1.5"]
    assert question_numbers("Did 260 Million people or 2.6億 need it?") == ["2.6億", "260 million"]  # with the scale


@pytest.mark.parametrize(
    ("question", "passage", "missing"),
    [
        ("建設和平基金2021年批准了多少資金?", "2022年,建設和平基金批准了2.31億美元。", ["2021"]),
        ("建設和平基金2022年批准了多少資金?", "2022年,建設和平基金批准了2.31億美元。", []),
        ("What did COP 27 agree?", "第二十七屆締約方會議同意設立基金。", []),
        ("About 20 million people?", "約2000萬人", []),  # a number inside a longer one passes
        ("1.5 million people?", "150萬人", []),  # a decimal may lose its point
        ("哪一種藝術形式在1950年代被鼓勵?", "20世紀50年代官方鼓勵社會主義現實主義", []),  # a decade
        ("哪一種藝術形式在1957年被鼓勵?", "20世紀50年代官方鼓勵社會主義現實主義", ["1957"]),
        ("Which fund gave 260 million dollars?", "該基金撥款2.6億美元", []),  # the same amount at another scale
        ("Who hosted 100,000 refugees?", "收容了10萬難民", []),
        ("Who exported 32 million tonnes?", "3200多萬噸穀物", []),
        ("Which fund gave 270 million dollars?", "該基金撥款2.6億美元", ["270 million"]),
        ("2022年有2.6億人需要援助嗎?", "近2.6億人需要緊急糧食援助", ["2022"]),
        ("第二十七屆會議由誰主持?", "在締約方會議第二十七屆會議期間", []),
        ("全球減少災害風險平台第七屆會議在哪裡召開?", "《2015-2030年仙台減少災害風險框架》", ["7"]),  # d31-044
    ],
)
def test_a_passage_must_hold_the_numbers_a_question_names(question, passage, missing):
    assert missing_numbers(question_numbers(question), passage) == missing


def test_an_answer_that_only_restates_a_question_number_is_not_an_answer():
    numbers = question_numbers("《昆明-蒙特利爾全球生物多樣性框架》是在2022年哪一個月通過的?")
    assert restates_number("2022年", numbers)
    assert restates_number("二〇二二年", numbers)
    assert not restates_number("2022年12月", numbers)
    assert not restates_number("80億", numbers)
    assert not restates_number("聯合國", numbers)
    assert restates_number("2.6億", question_numbers("2.6億人需要什麼援助?"))


def test_the_same_amount_at_another_scale_restates_the_question():
    numbers = question_numbers("How many children were among the 216 million people covered by the plans?")
    assert restates_number("2.16億人", numbers)
    assert restates_number("216 million", numbers)
    assert not restates_number("2.16萬人", numbers)
    assert not restates_number("1.2億人", numbers)
    assert not restates_number("2.16億人中的8000萬", numbers)


def test_unmatched_numbers_are_those_no_passage_holds():
    passages = ["2022年批准了2.31億美元。", "2021年的報告。"]
    assert unmatched_numbers(["2021", "2022", "2019"], passages) == ["2019"]
    assert unmatched_numbers([], passages) == []
