"""The answer confidence: a probability that rises with the span's probability and with its passage's score."""

from __future__ import annotations

from qa.confidence import TYPICAL_COVERAGE, answer_confidence, question_coverage
from qa.config import Settings

THRESHOLD = Settings.model_fields["no_answer_threshold"].default  # the shipped Chinese one


def test_confidence_is_a_probability_rising_with_both_inputs():
    grid = [(p, z) for p in (1e-9, 1e-3, 0.2, 0.9, 1.0) for z in (-2.0, 0.0, 1.5, 4.0)]
    assert all(0.0 < answer_confidence(p, z) < 1.0 for p, z in grid)
    assert answer_confidence(0.9, 1.5) > answer_confidence(0.2, 1.5) > answer_confidence(1e-3, 1.5)
    assert answer_confidence(0.5, 4.0) > answer_confidence(0.5, 0.0) > answer_confidence(0.5, -2.0)


def test_a_sure_span_in_a_weakly_matched_passage_is_less_sure_than_in_a_strong_one():
    # the case the fit is for: the reader is sure of a plausible span in a passage about something else
    assert answer_confidence(0.9, -0.5) < THRESHOLD <= answer_confidence(0.9, 3.0)


def test_a_span_probability_of_zero_still_scores():
    assert 0.0 < answer_confidence(0.0, 2.0) < answer_confidence(1e-6, 2.0)


def test_over_a_few_candidates_the_passage_counts_as_a_typical_match():
    # one passage: its z-score is 0 whatever it says, which would withhold every answer of a tiny collection
    assert answer_confidence(0.9, 0.0, candidates=1) == answer_confidence(0.9, 4.26, candidates=50)
    assert answer_confidence(0.9, 0.0, candidates=1) > THRESHOLD > answer_confidence(0.01, 0.0, candidates=1)


def test_an_english_question_is_surer_over_a_passage_holding_its_keywords():
    question = "What volume of grain had been exported under the Black Sea Initiative?"
    holds = question_coverage(question, "根據黑海穀物倡議，已有3200多萬噸穀物從烏克蘭出口。")
    lacks = question_coverage(question, "聯合國秘書長的報告")
    assert holds > lacks == 0.0
    assert answer_confidence(0.5, 3.0, coverage=holds) > answer_confidence(0.5, 3.0, coverage=lacks)


def test_coverage_leaves_chinese_questions_alone_and_is_typical_when_nothing_is_glossed():
    assert question_coverage("黑海倡議出口了多少穀物?", "聯合國秘書長的報告") == 0.0
    assert question_coverage("What is it?", "聯合國秘書長的報告") == TYPICAL_COVERAGE
