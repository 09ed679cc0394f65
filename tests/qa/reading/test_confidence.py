"""The answer confidence: a probability that rises with the span's probability and with its passage's score, fitted
per reader and read from the reader's folder (calibration.json)."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from qa.config import READER_DIR, Settings
from qa.reading.confidence import (
    CALIBRATION,
    UNCALIBRATED,
    CalibrationError,
    calibration_for,
    read_calibration,
    write_calibration,
)

SHIPPED = read_calibration(READER_DIR)
THRESHOLD = SHIPPED.no_answer_threshold  # the shipped Chinese one
confidence = SHIPPED.confidence


def test_the_shipped_reader_carries_its_calibration():
    assert SHIPPED is not None and SHIPPED.weights is not None
    assert SHIPPED.fitted_on == "data/eval/un-report-dev2.jsonl" and SHIPPED.fitted
    assert SHIPPED.non_cjk_no_answer_threshold < SHIPPED.no_answer_threshold


def test_confidence_is_a_probability_rising_with_both_inputs():
    grid = [(p, z) for p in (1e-9, 1e-3, 0.2, 0.9, 1.0) for z in (-2.0, 0.0, 1.5, 4.0)]
    assert all(0.0 < confidence(p, z) < 1.0 for p, z in grid)
    assert confidence(0.9, 1.5) > confidence(0.2, 1.5) > confidence(1e-3, 1.5)
    assert confidence(0.5, 4.0) > confidence(0.5, 0.0) > confidence(0.5, -2.0)


def test_a_sure_span_in_a_weakly_matched_passage_is_less_sure_than_in_a_strong_one():
    # the case the fit is for: the reader is sure of a plausible span in a passage about something else
    assert confidence(0.9, -0.5) < THRESHOLD <= confidence(0.9, 3.0)


def test_a_span_probability_of_zero_still_scores():
    assert 0.0 < confidence(0.0, 2.0) < confidence(1e-6, 2.0)


def test_over_a_few_candidates_the_passage_counts_as_a_typical_match():
    # one passage: its z-score is 0 whatever it says, which would withhold every answer of a tiny collection
    typical = SHIPPED.weights.typical_passage_score
    assert confidence(0.9, 0.0, candidates=1) == confidence(0.9, typical, candidates=50)
    assert confidence(0.9, 0.0, candidates=1) > THRESHOLD > confidence(0.01, 0.0, candidates=1)


def test_an_english_question_is_surer_over_a_passage_holding_its_keywords():
    question = "What volume of grain had been exported under the Black Sea Initiative?"
    holds = SHIPPED.coverage(question, "根據黑海穀物倡議，已有3200多萬噸穀物從烏克蘭出口。")
    lacks = SHIPPED.coverage(question, "聯合國秘書長的報告")
    assert holds > lacks == 0.0
    assert confidence(0.5, 3.0, coverage=holds) > confidence(0.5, 3.0, coverage=lacks)


def test_coverage_leaves_chinese_questions_alone_and_is_typical_when_nothing_is_glossed():
    assert SHIPPED.coverage("黑海倡議出口了多少穀物?", "聯合國秘書長的報告") == 0.0
    assert SHIPPED.coverage("What is it?", "聯合國秘書長的報告") == SHIPPED.weights.typical_coverage


def test_english_questions_have_their_own_threshold():
    assert SHIPPED.threshold_for("How many people?") == SHIPPED.non_cjk_no_answer_threshold
    assert SHIPPED.threshold_for("多少人?") == SHIPPED.no_answer_threshold


def test_explicit_settings_override_the_fitted_thresholds_and_keep_the_fit():
    chosen = calibration_for(Settings(no_answer_threshold=0.3))
    assert chosen.no_answer_threshold == 0.3 and chosen.weights == SHIPPED.weights
    assert chosen.non_cjk_no_answer_threshold == SHIPPED.non_cjk_no_answer_threshold
    span_only = calibration_for(Settings(calibrate_confidence=False))
    assert span_only == UNCALIBRATED and span_only.confidence(0.3, -5.0) == 0.3


def test_a_reader_folder_without_calibration_warns_once_and_scores_by_the_span(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        found = calibration_for(Settings(reader_dir=tmp_path))
    assert found == UNCALIBRATED and found.confidence(0.42, 3.0) == 0.42
    warnings = [r for r in caplog.records if CALIBRATION in r.getMessage()]
    assert len(warnings) == 1 and "bench.confidence --write" in warnings[0].getMessage()


def test_a_malformed_calibration_is_refused_naming_the_field(tmp_path):
    (tmp_path / CALIBRATION).write_text(json.dumps({**SHIPPED.to_json(), "no_answer_threshold": "high"}))
    with pytest.raises(CalibrationError, match="no_answer_threshold"):
        read_calibration(tmp_path)
    (tmp_path / CALIBRATION).write_text("{not json")
    with pytest.raises(CalibrationError, match=CALIBRATION):
        read_calibration(tmp_path)


def test_write_then_read_is_the_same_calibration(tmp_path):
    write_calibration(tmp_path, SHIPPED)
    assert read_calibration(tmp_path) == SHIPPED


def test_a_reader_copy_whose_thresholds_are_raised_withholds_every_answer(pipeline, variant, tmp_path):
    """The thresholds are the reader folder's, not the code's: a copy of qa/bundled/reader with thresholds above any
    confidence answers nothing, while the shipped folder answers the same questions."""
    copy = tmp_path / "reader"
    shutil.copytree(READER_DIR, copy)
    data = json.loads((copy / CALIBRATION).read_text())
    data["no_answer_threshold"] = data["non_cjk_no_answer_threshold"] = 1.01
    (copy / CALIBRATION).write_text(json.dumps(data))
    strict = variant(reader_dir=copy)
    questions = ["2022年世界人口達到了多少?", "巴基斯坦的暴雨洪灾波及了多少人?",
                 "How many people did the floods in Pakistan affect?"]
    assert all(not pipeline.ask(q, use_cache=False).no_answer for q in questions)
    assert all(strict.ask(q, use_cache=False).no_answer for q in questions)
