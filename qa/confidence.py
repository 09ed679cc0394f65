"""How likely an answer is to be right, from what the pipeline already knows about it: the reader's probability
for the span, how strongly retrieval found its passage and, for an English question, how many of its keywords
that passage holds.

The reader alone is sure of plausible spans in passages about something else (a question the document does
not answer still retrieves the passage nearest its topic). A passage that retrieval scores low among all the
candidates is such a near miss, and so is one that lacks what an English question names (CC-CEDICT's Chinese
words for its keywords, `qa.bridge.keyword_coverage`), so the confidence is a logistic fit of all three, and
`no_answer` is decided on it:

    confidence = sigmoid(BIAS + SPAN_WEIGHT * ln(span probability) + PASSAGE_WEIGHT * fused retrieval z-score
                         + COVERAGE_WEIGHT * keyword coverage (0 for a question with Chinese characters))

Fitted on data/eval/un-report-dev2.jsonl (its tuning set: answerable or not, 177 questions with an answer)
by `python -m bench.confidence` for reader v12 (refit whenever the reader or the answer ranking changes). On
held-out DRCD at the shipped thresholds, with its gold paragraph removed from the index: 81.5% of Chinese and
33.1% of English questions withheld (82.6% / 28.6% without the coverage term); with it, F1 80.1 (README).
"""

from __future__ import annotations

import math

from qa.bridge import keyword_coverage
from qa.text import has_cjk

BIAS = -0.479
SPAN_WEIGHT = 0.380
PASSAGE_WEIGHT = 0.589
COVERAGE_WEIGHT = 1.714
_FLOOR = 1e-12  # a span probability of 0 (underflow) still has a finite log
# z-scores over a handful of passages do not tell a match from a near miss (over n passages none exceeds
# sqrt(n - 1)): below this many candidates a passage counts as a typical match, the median fused score of
# dev2's right answers, and the confidence rests on the span alone
MIN_CANDIDATES = 50
TYPICAL_PASSAGE_SCORE = 4.26
TYPICAL_COVERAGE = 0.47  # an English question none of whose words CC-CEDICT glosses: dev2's answerable median


def question_coverage(question: str, passage: str) -> float:
    """The coverage term's input: 0 for a question with Chinese characters (read in the passage's own words),
    else the share of its English keywords the passage holds."""
    if has_cjk(question):
        return 0.0
    coverage = keyword_coverage(question, passage)
    return TYPICAL_COVERAGE if coverage is None else coverage


def answer_confidence(span_probability: float, passage_score: float, candidates: int = MIN_CANDIDATES,
                      coverage: float = 0.0) -> float:
    """The 0-1 confidence of an answer: its span's reader probability, its passage's fused retrieval score
    (a z-score over `candidates` passages) and `question_coverage` of the question over its passage."""
    if candidates < MIN_CANDIDATES:
        passage_score = TYPICAL_PASSAGE_SCORE
    logit = (BIAS + SPAN_WEIGHT * math.log(max(span_probability, _FLOOR)) + PASSAGE_WEIGHT * passage_score
             + COVERAGE_WEIGHT * coverage)
    return 1.0 / (1.0 + math.exp(-logit))
