"""The store interface: what retrieval and serving need from wherever the passages and vectors live.

Two backends implement it: `qa.storage.folder.LoadedIndex` (FAISS + in-memory BM25 from an index folder, the
default) and `qa.storage.milvus.MilvusStore` (a Milvus collection: embedded milvus-lite file, server or
cluster). Passages are named by id, never by row, so a backend may hold more than one process sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.types import Document, Passage

# a passage may have many sentence vectors: the dense pool is the owners of this many units per passage wanted
UNITS_PER_PASSAGE = 3


class PassageStore(Protocol):
    """Passages with their vectors (the passage's own, then one per sentence) and a keyword index."""

    kind: str  # "flat", "hnsw" or "milvus-flat"/"milvus-hnsw": what /healthz reports
    remote: bool  # calls wait on the network: the retriever makes independent ones at once

    @property
    def manifest(self) -> dict:
        """What the store was built from: model, passage_prefix, dimension, corpus (a one-document index's file),
        corpus_sha256, passages, documents (their count), created."""
        ...

    def count(self) -> int:
        """Passages held."""
        ...

    def version(self) -> str:
        """Changes whenever the content does (answers cached for one version are not served for another)."""
        ...

    def ping(self) -> None:
        """Raise when the store cannot answer (for /readyz)."""
        ...

    def search_dense(self, query: np.ndarray, k: int, documents: list[str] | None = None) -> list[tuple[str, float]]:
        """Up to k passage ids owning the best UNITS_PER_PASSAGE * k unit vectors, best first, with that score (among
        these documents' passages when given)."""
        ...

    def search_keywords(self, question: str, k: int, documents: list[str] | None = None) -> list[tuple[str, float]]:
        """The k best passages by BM25 (score > 0), best first (among these documents' when given)."""
        ...

    def documents(self) -> list[Document]:
        """The documents held, in id order."""
        ...

    def original(self, document_id: str) -> Path | None:
        """The document's original file, where the store keeps one."""
        ...

    def keyword_scores(self, question: str, ids: list[str]) -> dict[str, float]:
        """The BM25 score of each of these passages (absent: no term in common)."""
        ...

    def share_holding(self, forms: tuple[str, ...]) -> float:
        """The share of all passages that hold any of these words (folded, qa/language/text.py; by their bigrams)."""
        ...

    def unit_scores(self, query: np.ndarray, ids: list[str]) -> dict[str, np.ndarray]:
        """Per passage id: the query's inner product with its own vector, then with each of its sentences'
        in order (scores, not vectors: a remote store sends 1/384 of the bytes)."""
        ...

    def fetch(self, ids: Iterable[str]) -> list[Passage]:
        """Those of `ids` the store holds, in document order."""
        ...

    def by_id(self, passage_id: str) -> Passage | None:
        ...

    def find(self, paragraph: int | None = None, box: str | None = None) -> Passage | None:
        """A passage with this paragraph number, or this box title."""
        ...


def passage_by_id(store: PassageStore, passage_id: str) -> Passage | None:
    """The passage with this id, or, for an id without its document ("p121", as one-document indexes named them
    before passages knew their document), the one passage of any document with that local id."""
    found = store.by_id(passage_id)
    if found is not None or ":" in passage_id:
        return found
    matches = [p for d in store.documents() if (p := store.by_id(f"{d.id}:{passage_id}")) is not None]
    return matches[0] if len(matches) == 1 else None
