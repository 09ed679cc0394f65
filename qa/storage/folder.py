"""The index folder's version contents: passages + sentence owners + vectors + documents (+ each document's original
file) + manifest; `LoadedIndex` serves one version from memory (see qa/storage/lifecycle.py for when to build,
check and open one)."""

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
from qa.types import Document, Passage

PASSAGES = "passages.jsonl"
SENTENCES = "sentences.json"
DOCUMENTS = "documents.json"
# what a passage index's manifest holds besides qa.storage.manifest.FIELDS (qa/storage/lifecycle.py compares them)
FIELDS = {"model": str, "passage_prefix": str, "corpus": str, "corpus_sha256": str, "passages": int, "documents": int,
          "passage_vectors": str}
PASSAGE_VECTORS = ("pooled", "encoded")


@dataclass
class IndexedDocument:
    """A document as an index folder keeps it: what is listed, where it was read from, its original's file."""

    document: Document
    source: str | None  # the absolute path it was indexed from (None for an upload)
    original: str | None  # its copy in the version folder, served by GET /v1/documents/{id}/file

    def to_dict(self) -> dict:
        return {**self.document.to_dict(), "source": self.source, "original": self.original}

    @classmethod
    def from_dict(cls, data: dict) -> IndexedDocument:
        data = dict(data)
        source, original = data.pop("source", None), data.pop("original", None)
        return cls(Document(**data), source, original)


@dataclass
class IndexContent:
    """Everything a version holds but the vector index structure: enough to write the next version from it."""

    passages: list[Passage]
    owners: np.ndarray  # per sentence vector, the passage it belongs to
    vectors: np.ndarray  # passages' vectors, then sentences'
    documents: list[IndexedDocument]


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
    indexed: list[IndexedDocument] = field(default_factory=list)
    folder: Path | None = None
    _rows: dict[str, int] = field(default_factory=dict, repr=False)
    _last_scores: tuple[str, np.ndarray] | None = field(default=None, repr=False)
    remote = False

    def __post_init__(self) -> None:
        self._rows = {p.id: i for i, p in enumerate(self.passages)}
        n = len(self.passages)
        self.sentence_rows: list[list[int]] = [[] for _ in range(n)]
        for offset, owner in enumerate(self.sentence_owner.tolist()):
            self.sentence_rows[owner].append(n + offset)
        self._by_document: dict[str, list[int]] = {}
        for row, p in enumerate(self.passages):
            self._by_document.setdefault(p.document.id if p.document else "", []).append(row)

    @property
    def kind(self) -> str:
        return self.vectors.kind

    def count(self) -> int:
        return len(self.passages)

    def version(self) -> str:
        return self.manifest.get("created", "")

    def ping(self) -> None:
        """In memory: reachable once loaded."""

    def documents(self) -> list[Document]:
        return [d.document for d in self.indexed]

    def original(self, document_id: str) -> Path | None:
        """The document's original file in this version, when the index kept one."""
        found = next((d for d in self.indexed if d.document.id == document_id), None)
        return None if found is None or not found.original or self.folder is None else self.folder / found.original

    def owner_of(self, row: int) -> int:
        n = len(self.passages)
        return row if row < n else int(self.sentence_owner[row - n])

    def _passage_rows(self, documents: Iterable[str]) -> list[int]:
        return sorted(row for d in documents for row in self._by_document.get(d, []))

    def search_dense(self, query: np.ndarray, k: int, documents: list[str] | None = None) -> list[tuple[str, float]]:
        rows = None
        if documents is not None:
            passages = self._passage_rows(documents)
            rows = np.asarray(passages + [r for p in passages for r in self.sentence_rows[p]], dtype=np.int64)
        scores, found = self.vectors.search(query, k * UNITS_PER_PASSAGE, rows)
        best: dict[str, float] = {}
        for score, row in zip(scores.tolist(), found.tolist()):
            best.setdefault(self.passages[self.owner_of(row)].id, score)
        return list(best.items())[:k]

    def _keyword_scores(self, question: str) -> np.ndarray:
        """BM25 of every passage; the last question's kept, as both keyword calls of a search ask for it."""
        last = self._last_scores
        if last is None or last[0] != question:
            last = self._last_scores = (question, self.sparse.scores(question))
        return last[1]

    def search_keywords(self, question: str, k: int, documents: list[str] | None = None) -> list[tuple[str, float]]:
        scores = self._keyword_scores(question)
        if documents is not None:
            allowed = np.zeros(len(scores), dtype=bool)
            allowed[self._passage_rows(documents)] = True
            scores = np.where(allowed, scores, 0.0)
        rows = np.argsort(-scores, kind="stable")[:k]
        rows = rows[scores[rows] > 0]
        return [(self.passages[r].id, float(scores[r])) for r in rows.tolist()]

    def keyword_scores(self, question: str, ids: list[str]) -> dict[str, float]:
        scores = self._keyword_scores(question)
        return {pid: float(scores[self._rows[pid]]) for pid in ids if pid in self._rows}

    def share_holding(self, forms: tuple[str, ...]) -> float:
        if not self.passages:
            return 0.0
        rows = [self.sparse.holding(form) for form in forms]
        return len(np.unique(np.concatenate(rows))) / len(self.passages) if rows else 0.0

    def _unit_rows(self, pid: str) -> list[int]:
        """The passage's own row, then its sentences' rows."""
        return [self._rows[pid]] + self.sentence_rows[self._rows[pid]]

    def unit_vectors(self, pid: str) -> np.ndarray:
        """The passage's own vector, then its sentences' (what `unit_scores` scores; fitting uses them)."""
        return self.vectors.vectors(np.asarray(self._unit_rows(pid), dtype=np.int64))

    def unit_scores(self, query: np.ndarray, ids: list[str]) -> dict[str, np.ndarray]:
        units = [self._unit_rows(pid) for pid in ids]
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

    def content(self) -> IndexContent:
        """This version's contents, to write the next version from (adding or removing a document)."""
        rows = np.arange(len(self.vectors), dtype=np.int64)
        return IndexContent(list(self.passages), self.sentence_owner.copy(), self.vectors.vectors(rows),
                            list(self.indexed))


def original_name(document: Document) -> str:
    """A document's original in a version folder: named by content, so versions share one file (a hard link)."""
    suffix = Path(document.file).suffix.lower()
    return f"original-{document.sha256[:24]}{suffix if suffix.isascii() and len(suffix) <= 9 else ''}"


def write_passage_index(index_dir: Path, content: IndexContent, kind: str, manifest: dict,
                        originals: dict[str, Path] | None = None) -> dict:
    """Write a version (passages, sentence owners, vectors: passages first, then sentences; documents and their
    `originals`, document id -> the file to keep: the one read, or the previous version's copy) in `index_dir` and
    serve it; returns its verified manifest."""
    index = VectorIndex.build(content.vectors, kind)
    lines = "\n".join(json.dumps(p.to_dict(), ensure_ascii=False) for p in content.passages) + "\n"
    copies: dict[str, tuple[Path, str]] = {}
    documents = []
    for entry in content.documents:
        doc = entry.document
        source = (originals or {}).get(doc.id)
        name = original_name(doc) if source is not None else None
        if name:
            copies[name] = (source, doc.sha256)
        documents.append(IndexedDocument(doc, entry.source, name).to_dict())
    manifest = {**manifest, "passages": len(content.passages), "documents": len(documents)}
    files = {PASSAGES: lines, SENTENCES: json.dumps(content.owners.tolist()),
             DOCUMENTS: json.dumps(documents, ensure_ascii=False, indent=1)}
    folder = write_index(index_dir, index, manifest, files, copies)
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
            Passage.from_dict(json.loads(line))
            for line in (Path(folder) / PASSAGES).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        owners = np.asarray(json.loads((Path(folder) / SENTENCES).read_text()), dtype=np.int64)
        indexed = [IndexedDocument.from_dict(d) for d in json.loads((Path(folder) / DOCUMENTS).read_text("utf-8"))]
    except (OSError, ValueError, TypeError) as exc:
        raise corrupt(folder, "passage files unreadable") from exc
    if (len(passages) + len(owners) != len(vectors) or owners.ndim != 1
            or (len(owners) and not 0 <= owners.min() <= owners.max() < len(passages))):
        raise corrupt(folder, f"{len(passages)} passages, {len(owners)} sentences, {len(vectors)} vectors")
    if len(passages) != manifest["passages"] or len(indexed) != manifest["documents"]:
        raise corrupt(folder, f"the manifest counts {manifest['passages']} passages and {manifest['documents']} "
                      f"documents, the files hold {len(passages)} and {len(indexed)}")
    if manifest["passage_vectors"] not in PASSAGE_VECTORS:
        raise corrupt(folder, f"unknown passage_vectors {manifest['passage_vectors']!r}")
    known = {d.document.id for d in indexed}
    if any(p.document is None or p.document.id not in known for p in passages):
        raise corrupt(folder, "a passage cites a document the index does not list")
    return LoadedIndex(passages, vectors, SparseIndex([p.text for p in passages]), manifest, owners, indexed,
                       Path(folder))
