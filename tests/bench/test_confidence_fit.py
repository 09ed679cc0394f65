"""Fitting the answer confidence (bench/confidence.py): the threshold choice and its cross-validated estimate."""

from __future__ import annotations

import numpy as np
import pytest

from bench.confidence import cross_validated, fit_logistic, fitted_confidence, pick_thresholds


def rows_from(x: np.ndarray, y: np.ndarray, f1: np.ndarray) -> list[dict]:
    """`features` rows: an answer to an unanswerable question scores F1 0."""
    return [{"x": list(xi), "y": bool(yi), "f1": float(fi) if yi else 0.0, "chinese": i % 2 == 0}
            for i, (xi, yi, fi) in enumerate(zip(x, y, f1))]


def in_sample_f1(rows: list[dict], n_questions: int, n_answerable: int) -> float:
    x, y = np.array([r["x"] for r in rows]), np.array([float(r["y"]) for r in rows])
    f1, _, _ = pick_thresholds(rows, fitted_confidence(fit_logistic(x, y), x), n_questions, n_answerable)
    return f1 / n_questions


def test_a_feature_that_tells_unanswerable_questions_apart_withholds_them_out_of_sample():
    rng = np.random.default_rng(1)
    y = np.arange(120) < 80
    x = np.column_stack([np.where(y, 2.0, -2.0) + rng.normal(0, 0.3, 120), rng.normal(0, 1, 120)])
    rows = rows_from(x, y, np.ones(120))
    f1, withheld = cross_validated(rows, 120, 80, repeats=3)
    assert withheld > 0.95 and f1 > 0.95


def test_noise_scores_worse_out_of_sample_than_in_sample():
    # thresholds chosen on the set fit its noise: the cross-validated figure must not inherit that
    rng = np.random.default_rng(2)
    y = np.arange(150) < 100
    rows = rows_from(rng.normal(0, 1, (150, 2)), y, rng.uniform(0.3, 1.0, 150))
    f1, _ = cross_validated(rows, 150, 100, repeats=3)
    assert f1 < in_sample_f1(rows, 150, 100) - 0.01


def test_questions_without_any_answer_count_right_only_when_unanswerable():
    y = np.arange(60) < 40
    rows = rows_from(np.column_stack([np.where(y, 2.0, -2.0), np.zeros(60)]), y, np.ones(60))
    # 8 more questions had no answer at all: 6 unanswerable (right), 2 answerable (wrong, and withheld)
    assert in_sample_f1(rows, 68, 42) == pytest.approx((60 + 6) / 68)
    f1, withheld = cross_validated(rows, 68, 42, repeats=2)
    assert f1 == pytest.approx((60 + 6) / 68) and withheld == 1.0
