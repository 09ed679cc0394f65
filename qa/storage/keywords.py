"""BM25 over character unigrams and bigrams of folded text (see qa.language.text.fold).

Chinese has no spaces to split words on; character n-grams need no segmenter and keep exact
matches of names and numbers. Built in memory from the passages at load time (milliseconds for
thousands of passages), so it can never be stale.
"""

from __future__ import annotations

import re

import numpy as np

from qa.language.text import fold

_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
_PUNCT = set("，。、；：？！「」『』《》（）()[]【】〈〉“”‘’…—-·,.;:?!'\"/ ")


def _units(text: str) -> list[str]:
    """The characters of folded text, punctuation left out; a Latin/digit run counts as one."""
    return [u for u in _WORD.findall(fold(text)) if u not in _PUNCT]


def terms(text: str) -> list[str]:
    """Character unigrams and bigrams of folded text; Latin/digit runs count as one character."""
    units = _units(text)
    return units + [a + b for a, b in zip(units, units[1:])]


def bigrams(text: str) -> list[str]:
    """The character bigrams of folded text (its one character, when that is all), once each: what a passage
    holding it holds."""
    units = _units(text)
    return list(dict.fromkeys([a + b for a, b in zip(units, units[1:])] or units))


class SparseIndex:
    """BM25 weights stored term-major (each term's passages and weights side by side, as a CSC matrix would): a
    query reads only its terms' runs. Plain numpy, so serving needs no scipy."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.vocab: dict[str, int] = {}
        rows, cols, counts = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float64)
        for i, text in enumerate(texts):
            tf: dict[int, int] = {}
            doc_terms = terms(text)
            lengths[i] = len(doc_terms)
            for term in doc_terms:
                j = self.vocab.setdefault(term, len(self.vocab))
                tf[j] = tf.get(j, 0) + 1
            rows += [i] * len(tf)
            cols += list(tf)
            counts += list(tf.values())
        self.n_docs = len(texts)
        row, col = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        count = np.asarray(counts, dtype=np.float64)
        df = np.bincount(col, minlength=len(self.vocab))
        idf = np.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))
        norm = k1 * (1 - b + b * lengths / max(lengths.mean(), 1.0))
        weight = count * (k1 + 1) / (count + norm[row]) * idf[col]
        order = np.argsort(col, kind="stable")
        self.rows, self.weights = row[order], weight[order]
        self.starts = np.concatenate([[0], np.cumsum(df)])  # term j's run: starts[j]:starts[j + 1]

    def holding(self, text: str) -> np.ndarray:
        """The passages (rows) holding every bigram of `text` (its one character, when that is all): those where it
        occurs, but for the rare passage with its bigrams apart."""
        rows: np.ndarray | None = None
        for term in bigrams(text):
            j = self.vocab.get(term)
            if j is None:
                return np.zeros(0, dtype=np.int64)
            run = self.rows[self.starts[j]:self.starts[j + 1]]
            rows = run if rows is None else np.intersect1d(rows, run)
        return np.unique(rows) if rows is not None else np.zeros(0, dtype=np.int64)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (each distinct query term counted once)."""
        cols = sorted({self.vocab[t] for t in terms(query) if t in self.vocab})
        if not cols:
            return np.zeros(self.n_docs)
        runs = [slice(self.starts[j], self.starts[j + 1]) for j in cols]
        rows = np.concatenate([self.rows[r] for r in runs])
        weights = np.concatenate([self.weights[r] for r in runs])
        return np.bincount(rows, weights=weights, minlength=self.n_docs)
