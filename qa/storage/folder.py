"""The on-disk index format: passages + sentence owners + vectors + manifest (see qa/storage/lifecycle.py for
when to build, check and open one)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.storage.base import UNITS_PER_PASSAGE
from qa.storage.keywords import SparseIndex
from qa.storage.layout import corrupt, current_version
from qa.storage.manifest import read_manifest, write_index
from qa.storage.vectors import VectorIndex, read_index
from qa.types import Passage

PASSAGES = "passages.jsonl"
SENTENCES = "sentences.json"
# what a passage index's manifest holds besides qa.storage.vectors.FIELDS (qa/storage/lifecycle.py compares them)
FIELDS = {"model": str, "passage_prefix": str, "corpus": str, "corpus_sha256": str, "passages": int}


@dataclass
class LoadedIndex:
    """The default PassageStore (qa/storage/base.py): passages, their keyword index, and vectors from an index
    folder. Row i is passage i as a whole; the rows after the passages are single sentences of
    multi-sentence passages (`sentence_owner` says whose)."""

    passages: list[Passage]
    vectors: VectorIndex
    sparse: SparseIndex
    manifest: dict
    sentence_owner: np.ndarray
    _rows: dict[str, int] = field(default_factory=dict, repr=False)
    _last_scores: tuple[str, np.ndarray] | None = field(default=None, repr=False)
    remote = False

    def __post_init__(self) -> None:
        self._rows = {p.id: i for i, p in enumerate(self.passages)}
        n = len(self.passages)
        self.sentence_rows: list[list[int]] = [[] for _ in range(n)]
        for offset, owner in enumerate(self.sentence_owner.tolist()):
            self.sentence_rows[owner].append(n + offset)

    @property
    def kind(self) -> str:
        return self.vectors.kind

    def count(self) -> int:
        return len(self.passages)

    def version(self) -> str:
        return self.manifest.get("created", "")

    def ping(self) -> None:
        """In memory: reachable once loaded."""

    def owner_of(self, row: int) -> int:
        n = len(self.passages)
        return row if row < n else int(self.sentence_owner[row - n])

    def search_dense(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        scores, rows = self.vectors.search(query, k * UNITS_PER_PASSAGE)
        best: dict[str, float] = {}
        for score, row in zip(scores.tolist(), rows.tolist()):
            best.setdefault(self.passages[self.owner_of(row)].id, score)
        return list(best.items())[:k]

    def _keyword_scores(self, question: str) -> np.ndarray:
        """BM25 of every passage; the last question's kept, as both keyword calls of a search ask for it."""
        last = self._last_scores
        if last is None or last[0] != question:
            last = self._last_scores = (question, self.sparse.scores(question))
        return last[1]

    def search_keywords(self, question: str, k: int) -> list[tuple[str, float]]:
        scores = self._keyword_scores(question)
        rows = np.argsort(-scores, kind="stable")[:k]
        rows = rows[scores[rows] > 0]
        return [(self.passages[r].id, float(scores[r])) for r in rows.tolist()]

    def keyword_scores(self, question: str, ids: list[str]) -> dict[str, float]:
        scores = self._keyword_scores(question)
        return {pid: float(scores[self._rows[pid]]) for pid in ids if pid in self._rows}

    def unit_scores(self, query: np.ndarray, ids: list[str]) -> dict[str, np.ndarray]:
        units = [[self._rows[pid]] + self.sentence_rows[self._rows[pid]] for pid in ids]
        flat = self.vectors.vectors(np.asarray([u for rows in units for u in rows], dtype=np.int64)) @ query
        out, at = {}, 0
        for pid, rows in zip(ids, units):
            out[pid], at = flat[at : at + len(rows)], at + len(rows)
        return out

    def fetch(self, ids: Iterable[str]) -> list[Passage]:
        return [self.passages[r] for r in sorted({self._rows[pid] for pid in ids if pid in self._rows})]

    def by_id(self, passage_id: str) -> Passage | None:
        row = self._rows.get(passage_id)
        return None if row is None else self.passages[row]

    def find(self, paragraph: int | None = None, box: str | None = None) -> Passage | None:
        return next((p for p in self.passages if (paragraph is not None and p.paragraph == paragraph)
                     or (box is not None and (p.box or "").rstrip() == box)), None)


def write_passage_index(
    index_dir: Path, passages: list[Passage], sentence_owner: list[int], vectors: np.ndarray, kind: str, manifest: dict
) -> dict:
    """Write passages, sentence owners and vectors (passages first, then sentences) as a new version of
    the index in `index_dir`; returns its verified manifest."""
    index = VectorIndex.build(vectors, kind)
    lines = "\n".join(json.dumps(p.to_dict(), ensure_ascii=False) for p in passages) + "\n"
    folder = write_index(index_dir, index, manifest, {PASSAGES: lines, SENTENCES: json.dumps(sentence_owner)})
    return read_manifest(folder, FIELDS)


def open_version(index_dir: Path) -> tuple[Path, dict]:
    """The served version's folder and its manifest, verified (fields, sizes, sha256): once per load."""
    folder = current_version(index_dir)
    return folder, read_manifest(folder, FIELDS)


def read_passage_index(folder: Path, manifest: dict) -> LoadedIndex:
    """Load the version in `folder` (from open_version); IndexUnusableError says what is wrong."""
    vectors = read_index(folder, manifest)
    try:
        passages = [
            Passage(**json.loads(line))
            for line in (Path(folder) / PASSAGES).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        owners = np.asarray(json.loads((Path(folder) / SENTENCES).read_text()), dtype=np.int64)
    except (OSError, ValueError, TypeError) as exc:
        raise corrupt(folder, "passage files unreadable") from exc
    if (len(passages) + len(owners) != len(vectors) or owners.ndim != 1
            or (len(owners) and not 0 <= owners.min() <= owners.max() < len(passages))):
        raise corrupt(folder, f"{len(passages)} passages, {len(owners)} sentences, {len(vectors)} vectors")
    return LoadedIndex(passages, vectors, SparseIndex([p.text for p in passages]), manifest, owners)
