"""Building, checking and loading the on-disk index: passages + vectors + manifest."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from embeddings.encoder import Embedder
from embeddings.index import IndexUnusableError, VectorIndex, read_index, read_manifest, write_index
from qa.corpus import corpus_checksum, load_corpus
from qa.sparse import SparseIndex
from qa.types import Passage

log = logging.getLogger(__name__)
PASSAGES = "passages.jsonl"


@dataclass
class LoadedIndex:
    passages: list[Passage]
    vectors: VectorIndex
    sparse: SparseIndex
    manifest: dict

    def by_id(self, passage_id: str) -> Passage | None:
        if not hasattr(self, "_ids"):
            self._ids = {p.id: p for p in self.passages}
        return self._ids.get(passage_id)


def build_index(corpus: Path, index_dir: Path, embedder: Embedder, kind: str = "flat", progress: bool = False) -> dict:
    passages = load_corpus(corpus)
    log.info("embedding %d passages from %s", len(passages), corpus)
    vectors = embedder.encode_passages([p.text for p in passages], progress=progress)
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
    write_index(index_dir, index, manifest, {PASSAGES: lines})
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
    except (OSError, ValueError, TypeError) as exc:
        raise IndexUnusableError(f"index in {index_dir} is corrupt ({PASSAGES} unreadable); rebuild it with `qa index`") from exc
    if len(passages) != len(vectors):
        raise IndexUnusableError(f"index in {index_dir} is corrupt ({len(passages)} passages, {len(vectors)} vectors)")
    return LoadedIndex(passages, vectors, SparseIndex([p.text for p in passages]), manifest)


def index_problem(index_dir: Path, embedder: Embedder, corpus: Path | None) -> str | None:
    """None if the index can be served as is, else the reason it can't (missing, corrupt, stale)."""
    try:
        manifest = read_manifest(index_dir)
        read_index(index_dir, manifest)
    except IndexUnusableError as exc:
        return str(exc)
    reason = stale_reason(manifest, embedder, corpus)
    return f"stale: {reason}" if reason else None
