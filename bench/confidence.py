"""Fit the answer confidence of `qa/reading/confidence.py` and choose its no-answer thresholds on the tuning set.

    python -m bench.confidence [--data data/eval/un-report-dev2.jsonl ...] [--write]

Each question with an answer gives (ln span probability, fused retrieval z-score of its passage, keyword
coverage of an English question over it) and whether the document answers it; a logistic regression (L2,
C=1, intercept not penalised) is fitted by Newton's method. Then, per language (questions with Chinese
characters or not), the thresholds with the best F1 that withhold at most 5% of the answerable questions.
It prints the fit and a cross-validated estimate of it; `--write` stores the fit and the thresholds in the configured
reader folder's calibration.json (QA_READER_DIR, default qa/bundled/reader), where the pipeline reads them. The sets it
reads (several are fitted as one) are tuning sets, so report accuracy on others (held-out DRCD, bench.run).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from bench.paths import EVAL, ROOT


def features(pipeline, questions) -> list[dict]:
    """The top answer's features, its F1 and whether the question is answerable, asked as `qa eval` asks."""
    from qa.eval.backends import RETRIEVE_K
    from qa.eval.metrics import f1_score
    from qa.language.text import has_cjk

    rows = []
    for q in questions:
        hits = pipeline.search(q.question, RETRIEVE_K)
        answers, _, _ = pipeline.read(q.question, hits, no_answer_threshold=0.0)
        if not answers:
            continue
        top = answers[0]
        passage_score = next(h.score for h in hits if h.passage.id == top.passage.id)
        coverage = pipeline.calibration.coverage(q.question, top.passage.text)
        rows.append({"x": [math.log(max(top.span_probability, 1e-12)), passage_score, coverage], "y": q.answerable,
                     "f1": max((f1_score(top.text, [a]) for a in q.answers), default=0.0),
                     "chinese": has_cjk(q.question)})
    return rows


def fit_logistic(x: np.ndarray, y: np.ndarray, c: float = 1.0, steps: int = 50) -> np.ndarray:
    """(bias, weights...) minimising 0.5|w|^2 + c * log loss (scikit-learn's LogisticRegression default)."""
    a = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(a.shape[1])
    penalty = np.diag([0.0] + [1.0 / c] * x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-a @ w))
        grad = a.T @ (p - y) + penalty @ w
        hess = a.T @ (a * (p * (1 - p))[:, None]) + penalty
        w -= np.linalg.solve(hess, grad)
    return w


def fitted_confidence(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(w[0] + x @ w[1:])))


def pick_thresholds(rows: list[dict], confidence: np.ndarray, n_questions: int, n_answerable: int):
    """(Chinese, other) thresholds with the best F1 over the set withholding at most 5% of answerable ones."""
    chinese = np.array([r["chinese"] for r in rows])
    best = None
    for tz in [0.0, *sorted(set(confidence[chinese]))]:
        for te in [0.0, *sorted(set(confidence[~chinese]))]:
            kept = confidence >= np.where(chinese, tz, te)
            withheld = sum(r["y"] and not k for r, k in zip(rows, kept)) + (n_answerable - sum(r["y"] for r in rows))
            f1 = sum(r["f1"] if k else float(not r["y"]) for r, k in zip(rows, kept))
            f1 += unanswered_right(rows, n_questions, n_answerable)
            if withheld <= 0.05 * n_answerable and (best is None or f1 > best[0] + 1e-9):
                best = (f1, tz, te)
    return best


def unanswered_right(rows: list[dict], n_questions: int, n_answerable: int) -> int:
    """Questions the reader found no answer for are right only if the document does not answer them."""
    return (n_questions - n_answerable) - sum(not r["y"] for r in rows)


def cross_validated(rows: list[dict], n_questions: int, n_answerable: int, folds: int = 5, repeats: int = 10,
                    seed: int = 0) -> tuple[float, float]:
    """(F1, share of unanswerable questions withheld) of fitting and thresholding as `main` does, measured on
    questions each fit did not see: k-fold over the questions with an answer, averaged over shuffles. The
    in-sample F1 `main` prints is the fitted rule scored on its own tuning set; this is what to expect elsewhere."""
    x, y = np.array([r["x"] for r in rows]), np.array([float(r["y"]) for r in rows])
    unanswered = unanswered_right(rows, n_questions, n_answerable)  # withheld, and right, in every fold
    f1s, withheld = [], []
    for repeat in range(repeats):
        order = np.random.default_rng(seed + repeat).permutation(len(rows))
        right, held = float(unanswered), unanswered
        for test in np.array_split(order, folds):
            train = np.setdiff1d(order, test)
            w = fit_logistic(x[train], y[train])
            seen = [rows[i] for i in train]
            _, tz, te = pick_thresholds(seen, fitted_confidence(w, x[train]), len(seen), sum(r["y"] for r in seen))
            for i, c in zip(test, fitted_confidence(w, x[test])):
                kept = c >= (tz if rows[i]["chinese"] else te)
                right += rows[i]["f1"] if kept else float(not rows[i]["y"])
                held += not rows[i]["y"] and not kept
        f1s.append(right / n_questions)
        withheld.append(held / (n_questions - n_answerable))
    return float(np.mean(f1s)), float(np.mean(withheld))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+", default=[EVAL / "un-report-dev2.jsonl"],
                        help="tuning sets fitted as one (default: dev2)")
    parser.add_argument("--write", action="store_true", help="store the fit and thresholds in the reader folder's "
                        "calibration.json")
    args = parser.parse_args(argv)

    from qa.config import Settings
    from qa.eval.backends import configured_pipeline
    from qa.eval.questions import load_dataset

    questions = [q for path in args.data for q in load_dataset(path)]
    pipeline = configured_pipeline(Settings())
    rows = features(pipeline, questions)
    x, y = np.array([r["x"] for r in rows]), np.array([float(r["y"]) for r in rows])
    w = np.round(fit_logistic(x, y), 3)  # as written: thresholds chosen on other weights can drop a kept answer
    confidence = fitted_confidence(w, x)
    answerable = sum(q.answerable for q in questions)
    f1, tz, te = pick_thresholds(rows, confidence, len(questions), answerable)
    print(f"{len(rows)} of {len(questions)} questions with an answer")
    print(f"BIAS = {w[0]:.3f}\nSPAN_WEIGHT = {w[1]:.3f}\nPASSAGE_WEIGHT = {w[2]:.3f}\nCOVERAGE_WEIGHT = {w[3]:.3f}")
    print(f"thresholds: Chinese {tz:.4f}, other {te:.4f} (the lowest confidence kept; ship a value just below it); "
          f"F1 over the set {100 * f1 / len(questions):.1f} (in sample: the set chose them)")
    cv_f1, cv_withheld = cross_validated(rows, len(questions), answerable)
    print(f"cross-validated (5 folds x 10 shuffles, fit and thresholds on the other folds): F1 {100 * cv_f1:.1f}, "
          f"{100 * cv_withheld:.1f}% of unanswerable questions withheld")
    if args.write:
        print(f"written to {write_fit(pipeline, w, tz, te, args.data)}")
    return 0


def write_fit(pipeline, w: np.ndarray, chinese: float, other: float, datasets: list[Path]) -> Path:
    """The fit and thresholds (a hair below the lowest confidence kept) into the reader folder's calibration.json.
    The typical inputs are the ones the features were computed with: they stay as they were."""
    from datetime import UTC, datetime

    from qa.reading.confidence import TYPICAL, Calibration, Weights, write_calibration

    s = pipeline.settings
    old = pipeline.calibration.weights
    typical = {k: getattr(old, k) for k in TYPICAL} if old else TYPICAL
    weights = Weights(bias=round(w[0], 3), span_weight=round(w[1], 3), passage_weight=round(w[2], 3),
                      coverage_weight=round(w[3], 3), **typical)
    names = [str(d.resolve().relative_to(ROOT)) if d.resolve().is_relative_to(ROOT) else str(d) for d in datasets]
    new = Calibration(weights, math.floor(chinese * 1000) / 1000, math.floor(other * 1000) / 1000,
                      fitted_on=", ".join(names),
                      fitted=datetime.now(UTC).strftime("%Y-%m-%d"))
    return write_calibration(s.reader_dir, new)


if __name__ == "__main__":
    raise SystemExit(main())
