"""BM25 over character unigrams and bigrams of folded text (see qa.language.text.fold).

Chinese has no spaces to split words on; character n-grams need no segmenter and keep exact
matches of names and numbers. Built in memory from the passages at load time (milliseconds for
thousands of passages), so it can never be stale.
"""

from __future__ import annotations

import re

import numpy as np
from scipy import sparse

from qa.language.text import fold

_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
_PUNCT = set("，。、；：？！「」『』《》（）()[]【】〈〉“”‘’…—-·,.;:?!'\"/ ")


def terms(text: str) -> list[str]:
    """Character unigrams and bigrams of folded text; Latin/digit runs count as one character."""
    units = [u for u in _WORD.findall(fold(text)) if u not in _PUNCT]
    return units + [a + b for a, b in zip(units, units[1:])]


class SparseIndex:
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
        n_docs = len(texts)
        tf_matrix = sparse.csr_matrix((counts, (rows, cols)), shape=(n_docs, len(self.vocab)), dtype=np.float64)
        df = np.bincount(cols, minlength=len(self.vocab))
        idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        norm = k1 * (1 - b + b * lengths / max(lengths.mean(), 1.0))
        tf_matrix = tf_matrix.tocoo()
        weights = tf_matrix.data * (k1 + 1) / (tf_matrix.data + norm[tf_matrix.row]) * idf[tf_matrix.col]
        # term-major layout: a query reads a handful of columns
        self.weights = sparse.csc_matrix((weights, (tf_matrix.row, tf_matrix.col)), shape=tf_matrix.shape)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (each distinct query term counted once)."""
        cols = sorted({self.vocab[t] for t in terms(query) if t in self.vocab})
        if not cols:
            return np.zeros(self.weights.shape[0])
        return np.asarray(self.weights[:, cols].sum(axis=1)).ravel()
