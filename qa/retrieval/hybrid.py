"""Hybrid retrieval: dense (embeddings) and sparse (BM25) scores, z-normalised and mixed.

Measured on the report's dev questions (`make bench`, numbers in bench/results/): score mixing
beat reciprocal-rank fusion at rank 1; mixing a passage's own similarity with its best
sentence's similarity lifted Recall@1 from 0.89 to 0.94; questions without Chinese characters
lean on the dense side (BM25 only matches stray Latin letters and years there).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from embeddings.encoder import Embedder
from qa.language.bridge import keyword_query
from qa.language.text import has_cjk, split_sentences
from qa.retrieval.query_map import QueryMap
from qa.storage.base import PassageStore
from qa.types import Hit, Passage

A, B = TypeVar("A"), TypeVar("B")
_CALLS = ThreadPoolExecutor(4, thread_name_prefix="store")  # the second of two concurrent store calls


def _zscore(x: np.ndarray) -> np.ndarray:
    std = x.std()
    return (x - x.mean()) / std if std > 1e-9 else np.zeros_like(x)


class HybridRetriever:
    def __init__(
        self,
        index: PassageStore,
        embedder: Embedder,
        dense_weight: float = 0.6,
        sentence_weight: float = 0.7,
        non_cjk_dense_weight: float = 0.8,
        candidates: int = 100,
        expand_english: bool = True,
        english_query_map: QueryMap | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.dense_weight = dense_weight
        self.sentence_weight = sentence_weight
        self.non_cjk_dense_weight = non_cjk_dense_weight
        self.candidates = candidates
        self.expand_english = expand_english
        self.english_query_map = english_query_map  # applied to questions without Chinese characters
        self._spans: dict[tuple[str, str], list[tuple[int, int]]] = {}  # (id, text) -> its sentences' char spans

    def dense_scores(self, units: dict[str, np.ndarray], ids: list[str]) -> tuple[np.ndarray, list[int | None]]:
        """Per passage (`units`: its own similarity, then its sentences'): mix of its own similarity and its
        best sentence's; and which of its sentences that is (None for a one-sentence passage)."""
        out, best = np.empty(len(ids)), []
        for i, pid in enumerate(ids):
            sims = units[pid]
            own = sims[0]
            k = int(np.argmax(sims[1:])) if len(sims) > 1 else None
            best.append(k)
            best_sentence = own if k is None else sims[1 + k]
            out[i] = (1 - self.sentence_weight) * own + self.sentence_weight * best_sentence
        return out, best

    def sentence_span(self, passage: Passage, k: int) -> tuple[int, int]:
        """Character span of sentence `k` of the passage (the split the index was built with)."""
        key = (passage.id, passage.text)
        if key not in self._spans:
            text, spans, at = passage.text, [], 0
            for sentence in split_sentences(text):
                start = text.index(sentence, at)
                spans.append((start, start + len(sentence)))
                at = start + len(sentence)
            self._spans[key] = spans
        return self._spans[key][k]

    def _both(self, first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
        """Two independent store calls: at once for a remote store (each waits on the network), else in turn."""
        if not self.index.remote:
            return first(), second()
        later = _CALLS.submit(second)
        return first(), later.result()

    def search(self, question: str, k: int = 5, documents: list[str] | None = None) -> list[Hit]:
        """The k best passages for the question (among these documents' when given)."""
        chinese = has_cjk(question)
        weight = self.dense_weight if chinese else self.non_cjk_dense_weight
        keywords = question if chinese or not self.expand_english else keyword_query(question)
        query = self.embedder.encode_queries([question])[0]
        if not chinese and self.english_query_map is not None:
            query = self.english_query_map(query)
        store, n = self.index, self.candidates
        dense_top, sparse_top = self._both(lambda: store.search_dense(query, n, documents),
                                           lambda: store.search_keywords(keywords, n, documents))
        # every pooled passage gets its keyword score, not only the keyword side's top candidates
        sparse_of = dict(sparse_top)
        unscored = [pid for pid, _ in dense_top if pid not in sparse_of]
        ids = sorted({pid for pid, _ in dense_top} | sparse_of.keys())
        units, more = self._both(lambda: store.unit_scores(query, ids),
                                 lambda: store.keyword_scores(keywords, unscored))
        sparse_of |= more
        ids = [pid for pid in ids if pid in units]  # a passage deleted since the search has no units left
        dense, best_sentence = self.dense_scores(units, ids)
        sparse = np.asarray([sparse_of.get(pid, 0.0) for pid in ids])
        fused = weight * _zscore(dense) + (1 - weight) * _zscore(sparse)
        dense_rank = {ids[i]: r + 1 for r, i in enumerate(np.argsort(-dense, kind="stable"))}
        sparse_rank = {pid: r + 1 for r, (pid, _) in enumerate(sparse_top)}
        order = np.argsort(-fused, kind="stable")[:k]
        passages = {p.id: p for p in store.fetch([ids[i] for i in order])}  # only the hits' text is needed
        return [
            Hit(
                passage=passages[ids[i]],
                score=float(fused[i]),
                dense_score=float(dense[i]),
                sparse_score=float(sparse[i]),
                dense_rank=dense_rank[ids[i]],
                sparse_rank=sparse_rank.get(ids[i]),
                focus=None if best_sentence[i] is None else self.sentence_span(passages[ids[i]], best_sentence[i]),
                candidates=len(ids),
            )
            for i in order
            if ids[i] in passages
        ]
