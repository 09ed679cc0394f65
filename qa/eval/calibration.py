"""The no-answer threshold: what each question shows at a threshold, the summary there, the best
one (SQuAD 2.0's best_f1_thresh) and the grid of the trade-off curve.

Records carry the EM/F1 of both outcomes (`_em_kept`/`_f1_kept`: the top answer shown,
`_em_empty`/`_f1_empty`: withheld), so any threshold is scored without asking again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def prediction_at(record: dict, threshold: float | None) -> str:
    """The answer shown at `threshold` (None: the question's own, as configured for its language):
    nothing when the system found none or its score is lower."""
    if threshold is None:
        threshold = record.get("threshold", 0.0)
    score = record.get("score")
    if score is None or score < threshold:
        return ""
    return record.get("top_answer") or ""


def answer_scores(record: dict, threshold: float | None) -> tuple[float, float]:
    """(EM, F1) at a threshold, from the two precomputed outcomes (answer kept / withheld)."""
    if prediction_at(record, threshold):
        return record["_em_kept"], record["_f1_kept"]
    return record["_em_empty"], record["_f1_empty"]


def threshold_summary(records: Sequence[dict], threshold: float | None) -> dict:
    """Overall, HasAns and NoAns EM/F1 (percent) and no-answer accuracy at one threshold (None: each
    question's configured one)."""
    has = [r for r in records if r["answerable"]]
    no = [r for r in records if not r["answerable"]]

    def mean(rs: Sequence[dict], i: int) -> float | None:
        return 100.0 * sum(answer_scores(r, threshold)[i] for r in rs) / len(rs) if rs else None

    abstained = [not prediction_at(r, threshold) for r in records]
    shown = [r for r, a in zip(records, abstained) if not a]
    correct_call = sum(1 for r, a in zip(records, abstained, strict=True) if a != r["answerable"])
    return {
        "threshold": threshold,
        "em": mean(records, 0),
        "f1": mean(records, 1),
        "has_ans_em": mean(has, 0),
        "has_ans_f1": mean(has, 1),
        "no_ans_f1": mean(no, 1),
        "no_answer_accuracy": 100.0 * correct_call / len(records) if records else None,
        "answered": 100.0 * (len(records) - sum(abstained)) / len(records) if records else None,
        # of the answers shown, the share exactly right (an answer to an unanswerable question is wrong)
        "answered_accuracy": 100.0 * sum(r["_em_kept"] for r in shown) / len(shown) if shown else None,
        # answerable questions given "no answer": the cost side of abstaining
        "answerable_withheld": 100.0 * sum(a for r, a in zip(records, abstained) if r["answerable"]) / len(has)
        if has else None,
    }


def best_threshold(records: Sequence[dict], prefer: float | None = None) -> dict:
    """The threshold that maximises overall F1 (SQuAD 2.0's best_f1_thresh). On ties `prefer`
    (the configured one) wins, so "already optimal" reads as such; else the lowest."""
    scores = sorted({r["score"] for r in records if r.get("score") is not None})
    candidates = [0.0, *scores]
    if scores:
        candidates.append(round(scores[-1] + 1e-4, 6))  # abstain on everything
    best: dict | None = threshold_summary(records, prefer) if prefer is not None else None
    for t in candidates:
        summary = threshold_summary(records, t)
        if best is None or summary["f1"] > best["f1"] + 1e-12:
            best = summary
    return best or threshold_summary(records, 0.0)


def sweep_grid(records: Sequence[dict]) -> list[float]:
    """Thresholds for the trade-off curve: fine near 0 (reader scores crowd there), 0.01 steps above."""
    grid = {0.0, *np.round(np.geomspace(1e-4, 1e-2, 9), 6).tolist(), *np.round(np.linspace(0, 1, 101), 4).tolist()}
    return sorted(grid)
