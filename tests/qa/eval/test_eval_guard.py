"""Regression guard: `qa eval`'s evaluation of the real pipeline on a fixed slice of the dev set
must not fall below floors set from measurement. Not a tuned test: the floors sit a few points
under what was measured, so only a real regression (or a broken model/index) trips them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.eval import evaluate, load_dataset

pytestmark = pytest.mark.slow

# every third question of ../shared/data/un-report-dev.jsonl (the project's own data): 20
# questions, 18 answerable (2 in boxes), 2 unanswerable; all seven types and all four scripts
SLICE = Path(__file__).resolve().parents[2] / "data" / "un-report-dev-slice.jsonl"

# Measured 2026-11-27 on the 2-core CI-like machine (AMD EPYC, 1 thread), reader of commit e73fa8e,
# read_k 3, threshold 0.001: EM 75.0, F1 84.2, HasAns F1 82.5, citation 100.0, R@1 1.000,
# R@5 1.000, MRR@10 1.000. One question is 5 points of EM here; the floors allow about two flips.
FLOORS = {
    "em": 65.0,
    "f1": 75.0,
    "has_ans_f1": 72.0,
    "citation_accuracy": 88.0,  # 16 of 18
    "recall@1": 0.88,  # 16 of 18
    "recall@5": 0.94,  # 17 of 18
    "mrr@10": 0.90,
}


def test_accuracy_stays_above_the_floors(pipeline):
    result = evaluate(pipeline, load_dataset(SLICE), progress=False)
    m = result["metrics"]
    measured = {
        "em": m["em"], "f1": m["f1"], "has_ans_f1": m["has_ans"]["f1"], "citation_accuracy": m["citation_accuracy"],
        "recall@1": m["retrieval"]["recall@1"], "recall@5": m["retrieval"]["recall@5"],
        "mrr@10": m["retrieval"]["mrr@10"],
    }
    print(json.dumps(measured))
    low = {k: (measured[k], floor) for k, floor in FLOORS.items() if measured[k] < floor}
    assert not low, f"below the floor (measured, floor): {low}"
