"""How likely an answer is to be right, from the two things the pipeline already knows about it: the reader's
probability for the span and how strongly retrieval found its passage.

The reader alone is sure of plausible spans in passages about something else (a question the document does
not answer still retrieves the passage nearest its topic). A passage that retrieval scores low among all the
candidates is such a near miss, so the confidence is a logistic fit of both, and `no_answer` is decided on it:

    confidence = sigmoid(BIAS + SPAN_WEIGHT * ln(span probability) + PASSAGE_WEIGHT * fused retrieval z-score)

Fitted on data/eval/un-report-dev2.jsonl (its tuning set: answerable or not, 177 questions with an answer)
by `python -m bench.confidence` for reader v12 (refit whenever the reader or the answer ranking changes). On
held-out DRCD at the shipped thresholds, with its gold paragraph removed from the index: 82.6% withheld (71.5%
on span probability alone, reader v5); with it, F1 79.9 (README).
"""

from __future__ import annotations

import math

BIAS = 0.299
SPAN_WEIGHT = 0.400
PASSAGE_WEIGHT = 0.492
_FLOOR = 1e-12  # a span probability of 0 (underflow) still has a finite log
# z-scores over a handful of passages do not tell a match from a near miss (over n passages none exceeds
# sqrt(n - 1)): below this many candidates a passage counts as a typical match, the median fused score of
# dev2's right answers, and the confidence rests on the span alone
MIN_CANDIDATES = 50
TYPICAL_PASSAGE_SCORE = 4.26


def answer_confidence(span_probability: float, passage_score: float, candidates: int = MIN_CANDIDATES) -> float:
    """The 0-1 confidence of an answer: its span's reader probability and its passage's fused retrieval score
    (a z-score over `candidates` passages)."""
    if candidates < MIN_CANDIDATES:
        passage_score = TYPICAL_PASSAGE_SCORE
    logit = BIAS + SPAN_WEIGHT * math.log(max(span_probability, _FLOOR)) + PASSAGE_WEIGHT * passage_score
    return 1.0 / (1.0 + math.exp(-logit))
