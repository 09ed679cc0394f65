"""Building, checking and loading the on-disk index: passages + vectors + manifest."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.encoder import Embedder
from embeddings.index import IndexUnusableError, VectorIndex, read_index, read_manifest, write_index
from qa.corpus import corpus_checksum, load_corpus
from qa.sparse import SparseIndex
from qa.text import split_sentences
from qa.types import Passage

log = logging.getLogger(__name__)
PASSAGES = "passages.jsonl"
SENTENCES = "sentences.json"


@dataclass
class LoadedIndex:
    """Passages, their keyword index, and vectors: row i is passage i as a whole; the rows after
    the passages are single sentences of multi-sentence passages (`sentence_owner` says whose)."""

    passages: list[Passage]
    vectors: VectorIndex
    sparse: SparseIndex
    manifest: dict
    sentence_owner: np.ndarray
    _ids: dict[str, Passage] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._ids = {p.id: p for p in self.passages}
        n = len(self.passages)
        self.sentence_rows: list[list[int]] = [[] for _ in range(n)]
        for offset, owner in enumerate(self.sentence_owner.tolist()):
            self.sentence_rows[owner].append(n + offset)

    def by_id(self, passage_id: str) -> Passage | None:
        return self._ids.get(passage_id)

    def owner_of(self, row: int) -> int:
        n = len(self.passages)
        return row if row < n else int(self.sentence_owner[row - n])


def build_index(corpus: Path, index_dir: Path, embedder: Embedder, kind: str = "flat", progress: bool = False) -> dict:
    passages = load_corpus(corpus)
    # sentence vectors let one sentence of a long, many-topic paragraph match a specific question
    owners, sentences = [], []
    for i, p in enumerate(passages):
        parts = split_sentences(p.text)
        if len(parts) > 1:
            owners += [i] * len(parts)
            sentences += parts
    log.info("embedding %d passages and %d sentences from %s", len(passages), len(sentences), corpus)
    vectors = embedder.encode_passages([p.text for p in passages] + sentences, progress=progress)
    index = VectorIndex.build(vectors, kind)
    manifest = {
        "model": embedder.model_name,
        "passage_prefix": embedder.passage_prefix,
        "dimension": int(vectors.shape[1]),
        "corpus": str(Path(corpus).resolve()),
        "corpus_sha256": corpus_checksum(corpus),
        "passages": len(passages),
    }
    lines = "\n".join(json.dumps(p.to_dict(), ensure_ascii=False) for p in passages) + "\n"
    write_index(index_dir, index, manifest, {PASSAGES: lines, SENTENCES: json.dumps(owners)})
    return read_manifest(index_dir)


def stale_reason(manifest: dict, embedder: Embedder, corpus: Path | None) -> str | None:
    """Why an intact index no longer matches the configuration, or None when it does."""
    if manifest.get("model") != embedder.model_name:
        return f"built with model {manifest.get('model')!r}, configured {embedder.model_name!r}"
    if manifest.get("passage_prefix") != embedder.passage_prefix:
        return "built with a different passage prefix"
    if corpus is not None:
        if not Path(corpus).is_file():
            return None  # the index is all there is; serving it beats failing
        if corpus_checksum(corpus) != manifest.get("corpus_sha256"):
            return f"the corpus {corpus} changed since the index was built"
    return None


def load_index(index_dir: Path, embedder: Embedder, corpus: Path | None) -> LoadedIndex:
    """Load and verify; IndexUnusableError says precisely what is wrong and what to run."""
    manifest = read_manifest(index_dir)
    reason = stale_reason(manifest, embedder, corpus)
    if reason:
        raise IndexUnusableError(f"index in {index_dir} is stale ({reason}); rebuild it with `qa index`")
    vectors = read_index(index_dir, manifest)
    try:
        passages = [
            Passage(**json.loads(line))
            for line in (Path(index_dir) / PASSAGES).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        owners = np.asarray(json.loads((Path(index_dir) / SENTENCES).read_text()), dtype=np.int64)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexUnusableError(
            f"index in {index_dir} is corrupt (passage files unreadable); rebuild it with `qa index`"
        ) from exc
    if len(passages) + len(owners) != len(vectors) or (len(owners) and owners.max() >= len(passages)):
        raise IndexUnusableError(
            f"index in {index_dir} is corrupt ({len(passages)} passages, {len(owners)} sentences, "
            f"{len(vectors)} vectors); rebuild it with `qa index`"
        )
    return LoadedIndex(passages, vectors, SparseIndex([p.text for p in passages]), manifest, owners)


def index_problem(index_dir: Path, embedder: Embedder, corpus: Path | None) -> str | None:
    """None if the index can be served as is, else why not (missing, corrupt, stale)."""
    try:
        load_index(index_dir, embedder, corpus)
    except IndexUnusableError as exc:
        return str(exc)
    return None
