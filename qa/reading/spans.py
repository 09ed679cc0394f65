"""From the reader's start/end logits to clean answer spans: the decoding half of reading.

A span is chosen among clean spans only. Every likely (start token, end token) pair is first made clean
(`clean_span`: no stray punctuation or particle at its edges, a number with its unit, a fraction whole,
quote and bracket pairs whole), and the pairs that become the same clean span add up their probability:
they are one answer that the tokens offered several ways (",300億美元", "300億美元」" and "300億美元").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qa.language.text import is_punct
from qa.reading.windows import Windows

PARTICLE = "的"  # trimmed from span edges
NUMERALS = "0123456789０１２３４５６７８９一二三四五六七八九十百千萬万億亿兩两零"
UNITS = "人年月日天歲岁元個个名次倍%％噸吨台件座所家種种屆届位項项輛辆艘架條条場场"  # one-character units
OPENERS, CLOSERS = "《「『（(【〈“‘", "》」』）)】〉”’"
QUOTE_REACH = 12  # characters a span may grow to take in the partner of a quote mark inside it
NEGLIGIBLE = 7.0  # pairs more than e^7 (~1,100) times less likely than the best one are not decoded


@dataclass(frozen=True)
class Span:
    """A candidate answer: character offsets into text number `text_index` of the batch."""

    text_index: int
    start: int
    end: int
    score: float  # probability of this span within its window (summed over the token pairs that give it)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def decode_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    windows: Windows,
    texts: list[str],
    max_answer_chars: int = 40,
    top_n: int = 20,
    exclude: Callable[[str], bool] | None = None,
    rule_out: Callable[[str], bool] | None = None,
) -> list[Span]:
    """The most likely clean span of each window (offsets into `texts`). A pair's probability is start prob x
    end prob; the softmax includes token 0 ("no answer"), so a window the model thinks holds none gives its
    spans a tiny probability. Windows whose likely pairs leave nothing clean give no span. `exclude` passes over
    spans a caller knows are not the answer (a follow-up's previous answer), so the next likely one is chosen;
    `rule_out` also the less likely spans overlapping one it rules out (a span of another kind than the question
    asks for: "27000" of "27000起" is the same answer read shorter)."""
    spans: list[Span] = []
    for w in range(start_logits.shape[0]):
        mask = windows.attention_mask[w].astype(bool)
        s_log = _log_softmax(np.where(mask, start_logits[w], -1e9))
        e_log = _log_softmax(np.where(mask, end_logits[w], -1e9))
        offsets = windows.offsets[w]
        in_text = offsets[:, 0] >= 0
        cand_s = [i for i in np.argsort(-s_log)[:top_n] if in_text[i]]
        cand_e = [j for j in np.argsort(-e_log)[:top_n] if in_text[j]]
        pairs = sorted(((float(s_log[i] + e_log[j]), i, j) for i in cand_s for j in cand_e if j >= i), reverse=True)
        text = texts[int(windows.text_index[w])]
        mass: dict[tuple[int, int], float] = {}
        for log_p, i, j in pairs:
            if log_p < pairs[0][0] - NEGLIGIBLE:
                break
            start, end = int(offsets[i, 0]), int(offsets[j, 1])
            if end - start > max_answer_chars or end <= start:
                continue
            clean = clean_span(text, start, end)
            if clean[1] > clean[0]:
                mass[clean] = mass.get(clean, 0.0) + math.exp(log_p)
        best = _most_likely(mass, text, exclude, rule_out)
        if best is not None:
            (start, end), p = best
            spans.append(Span(int(windows.text_index[w]), start, end, min(p, 1.0)))
    return spans


def _most_likely(mass: dict[tuple[int, int], float], text: str, exclude: Callable[[str], bool] | None,
                 rule_out: Callable[[str], bool] | None) -> tuple[tuple[int, int], float] | None:
    """The most likely span neither predicate passes over and that overlaps no more likely span `rule_out` rules out
    (an overlap itself passes on no further, so a long span does not take the rest of the window along)."""
    ruled_out: list[tuple[int, int]] = []
    for (start, end), p in sorted(mass.items(), key=lambda item: item[1], reverse=True):
        span = text[start:end]
        if rule_out is not None and rule_out(span):
            ruled_out.append((start, end))
        elif not (exclude is not None and exclude(span) or any(s < end and start < e for s, e in ruled_out)):
            return (start, end), p
    return None


def clean_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The clean span of text[start:end]: whitespace, dangling punctuation and the particle 的 dropped at its
    edges (tokens often carry them: "20年的", "的三方論壇"; 21 of 17,707 DRCD/CMRC gold answers end in 的, none
    starts with it), a number with its unit, a fraction whole, quote and bracket pairs whole. May be empty."""
    while start < end and (text[start].isspace() or text[start] == PARTICLE
                           or (is_punct(text[start]) and text[start] not in OPENERS)):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] == PARTICLE
                           or (is_punct(text[end - 1]) and text[end - 1] not in CLOSERS)):
        end -= 1
    # a number keeps its unit: of 17,502 DRCD/CMRC gold answers, 1,996 end in a numeral and its unit,
    # 107 stop before one
    if start < end < len(text) and text[end] in UNITS and text[end - 1] in NUMERALS:
        end += 1
    # a fraction is one number: "四分" -> "四分之一" (7 of the 7,745 first gold answers of DRCD/CMRC dev hold one)
    if (start < end and end + 1 < len(text) and text[end - 1] == "分" and text[end] == "之"
            and end - 2 >= start and text[end - 2] in NUMERALS and text[end + 1] in NUMERALS):
        end += 2
    # keep quote/bracket pairs whole: an unmatched one at an edge is trimmed ("300億美元」" -> "300億美元"),
    # one inside reaches for its partner nearby ("從重「量」轉向重「質" -> "從重「量」轉向重「質」")
    for o, c in zip(OPENERS, CLOSERS):
        span = text[start:end]
        if span.count(o) > span.count(c):
            if span.startswith(o) and c not in span:
                start += 1
            elif (partner := text.find(c, end, end + QUOTE_REACH)) >= 0 and o not in text[end:partner]:
                end = partner + 1
        span = text[start:end]
        if span.count(c) > span.count(o):
            if span.endswith(c) and o not in span:
                end -= 1
            elif (partner := text.rfind(o, max(0, start - QUOTE_REACH), start)) >= 0 and c not in text[partner:start]:
                start = partner
    return start, end
