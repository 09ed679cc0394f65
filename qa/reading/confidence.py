"""How likely an answer is to be right, from what the pipeline already knows about it: the reader's probability
for the span, how strongly retrieval found its passage and, for an English question, how many of its keywords
that passage holds.

The reader alone is sure of plausible spans in passages about something else (a question the document does
not answer still retrieves the passage nearest its topic). A passage that retrieval scores low among all the
candidates is such a near miss, and so is one that lacks what an English question names (CC-CEDICT's Chinese
words for its keywords, `qa.language.bridge.keyword_coverage`), so the confidence is a logistic fit of all three,
and `no_answer` is decided on it:

    confidence = sigmoid(bias + span_weight * ln(span probability) + passage_weight * fused retrieval z-score
                         + coverage_weight * keyword coverage (0 for a question with Chinese characters))

The numbers belong to one reader, so they travel in its folder: `calibration.json` beside the weights, written
by `python -m bench.confidence --write` (the fit, the two no-answer thresholds, the set it was fitted on and
the date). A reader folder without one is read with the span probability alone and thresholds that suit it
(`UNCALIBRATED`), with one warning.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from qa.language.bridge import keyword_coverage
from qa.language.text import has_cjk

log = logging.getLogger(__name__)

CALIBRATION = "calibration.json"
_FLOOR = 1e-12  # a span probability of 0 (underflow) still has a finite log
# z-scores over a handful of passages do not tell a match from a near miss (over n passages none exceeds
# sqrt(n - 1)): below this many candidates a passage counts as a typical match and the confidence rests on the span
MIN_CANDIDATES = 50
# the typical inputs fitted for reader v12 on dev2, used to compute features before a reader has its own fit
TYPICAL = {"typical_passage_score": 4.26, "typical_coverage": 0.47}


class CalibrationError(ValueError):
    """A reader folder's calibration.json can't be used; the message names the file and the field."""


@dataclass(frozen=True)
class Weights:
    """The logistic fit, and the typical inputs that stand in where one is not informative."""

    bias: float
    span_weight: float
    passage_weight: float
    coverage_weight: float
    typical_passage_score: float  # the median fused score of the tuning set's right answers
    typical_coverage: float  # an English question none of whose words CC-CEDICT glosses: the answerable median


@dataclass(frozen=True)
class Calibration:
    """A reader's confidence fit (None: the span probability is the confidence) and its no-answer thresholds."""

    weights: Weights | None
    no_answer_threshold: float  # questions with Chinese characters
    non_cjk_no_answer_threshold: float  # the others: an English question's spans score far lower
    fitted_on: str | None = None
    fitted: str | None = None  # the date

    def threshold_for(self, question: str) -> float:
        """The top answer's confidence below which `no_answer` is returned for this question."""
        return self.no_answer_threshold if has_cjk(question) else self.non_cjk_no_answer_threshold

    def coverage(self, question: str, passage: str) -> float:
        """The coverage term's input: 0 for a question with Chinese characters (read in the passage's own words),
        else the share of its English keywords the passage holds."""
        if has_cjk(question):
            return 0.0
        coverage = keyword_coverage(question, passage)
        if coverage is None:
            return self.weights.typical_coverage if self.weights else TYPICAL["typical_coverage"]
        return coverage

    def confidence(self, span_probability: float, passage_score: float, candidates: int = MIN_CANDIDATES,
                   coverage: float = 0.0) -> float:
        """The 0-1 confidence of an answer: its span's reader probability, its passage's fused retrieval score
        (a z-score over `candidates` passages) and `coverage` of the question over its passage."""
        w = self.weights
        if w is None:
            return span_probability
        if candidates < MIN_CANDIDATES:
            passage_score = w.typical_passage_score
        logit = (w.bias + w.span_weight * math.log(max(span_probability, _FLOOR)) + w.passage_weight * passage_score
                 + w.coverage_weight * coverage)
        return 1.0 / (1.0 + math.exp(-logit))

    def with_thresholds(self, chinese: float | None, other: float | None) -> Calibration:
        """The same fit with explicit thresholds (settings) in place of the fitted ones, where given."""
        return replace(self, no_answer_threshold=self.no_answer_threshold if chinese is None else chinese,
                       non_cjk_no_answer_threshold=self.non_cjk_no_answer_threshold if other is None else other)

    def to_json(self) -> dict:
        return {"confidence": asdict(self.weights) if self.weights else None,
                "no_answer_threshold": self.no_answer_threshold,
                "non_cjk_no_answer_threshold": self.non_cjk_no_answer_threshold,
                "fitted_on": self.fitted_on, "fitted": self.fitted}


# a reader folder without calibration.json: the span probability, at thresholds that suited it for reader v5
# (dev2: 33 of 60 unanswerable withheld, 4.2% of answerable)
UNCALIBRATED = Calibration(weights=None, no_answer_threshold=0.02, non_cjk_no_answer_threshold=0.01)


def _number(path: Path, data: dict, key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CalibrationError(f"{path}: {key!r} must be a number (got {value!r})")
    return float(value)


def read_calibration(reader_dir: Path) -> Calibration | None:
    """The calibration in a reader folder, or None when it has none; CalibrationError when it is malformed."""
    path = Path(reader_dir) / CALIBRATION
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(data, dict):
        raise CalibrationError(f"{path}: expected a JSON object")
    fit = data.get("confidence")
    if fit is not None and not isinstance(fit, dict):
        raise CalibrationError(f"{path}: 'confidence' must be an object or null")
    weights = Weights(**{k: _number(path, fit, k) for k in Weights.__dataclass_fields__}) if fit else None
    return Calibration(weights, _number(path, data, "no_answer_threshold"),
                       _number(path, data, "non_cjk_no_answer_threshold"),
                       data.get("fitted_on"), data.get("fitted"))


def write_calibration(reader_dir: Path, calibration: Calibration) -> Path:
    path = Path(reader_dir) / CALIBRATION
    tmp = path.with_name(f".{CALIBRATION}.tmp")
    tmp.write_text(json.dumps(calibration.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def calibration_for(settings) -> Calibration:
    """The configured reader's calibration with the settings on top: `QA_CALIBRATE_CONFIDENCE=false` drops the fit
    (span probability, UNCALIBRATED thresholds), and explicit `QA_NO_ANSWER_THRESHOLD` /
    `QA_NON_CJK_NO_ANSWER_THRESHOLD` replace the fitted thresholds."""
    found = read_calibration(settings.reader_dir) if settings.calibrate_confidence else UNCALIBRATED
    if found is None:
        log.warning("%s has no %s: answers are scored by the reader's span probability alone, withheld below %g "
                    "(%g for questions without Chinese); fit one with `python -m bench.confidence --write`",
                    settings.reader_dir, CALIBRATION, UNCALIBRATED.no_answer_threshold,
                    UNCALIBRATED.non_cjk_no_answer_threshold)
        found = UNCALIBRATED
    return found.with_thresholds(settings.no_answer_threshold, settings.non_cjk_no_answer_threshold)
