"""Answer-accuracy metrics as the CMRC 2018 / DRCD evaluation defines them (see docs/EVAL.md).

Chinese answers are scored per character, not per space-separated word, so the SQuAD script's
F1 would collapse to EM; F1 here uses the longest common contiguous run of tokens. Answers are
compared in `qa.language.text.normalize_answer`'s form, the one the serving library also uses.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from qa.language.text import is_punct, normalize_answer

_TOKEN = re.compile(r"[a-z0-9]+|\S")


def tokenize(text: str) -> list[str]:
    """Each CJK character (any non-alphanumeric symbol) is a token; a Latin/digit run is one."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return [tok for tok in _TOKEN.findall(folded) if len(tok) > 1 or not is_punct(tok)]


def _longest_common_run(a: Sequence[str], b: Sequence[str]) -> int:
    best = 0
    prev = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        cur = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def f1_single(prediction: str, gold: str) -> float:
    pred_tokens, gold_tokens = tokenize(prediction), tokenize(gold)
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    run = _longest_common_run(pred_tokens, gold_tokens)
    if run == 0:
        return 0.0
    precision, recall = run / len(pred_tokens), run / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, golds: Iterable[str]) -> float:
    """EM over the gold list; an empty gold list means unanswerable: only "" scores."""
    golds = list(golds)
    if not golds:
        return float(prediction.strip() == "")
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in golds))


def f1_score(prediction: str, golds: Iterable[str]) -> float:
    golds = list(golds)
    if not golds:
        return float(prediction.strip() == "")
    return max(f1_single(prediction, g) for g in golds)
