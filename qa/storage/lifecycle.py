"""The index lifecycle, in one place: build it from settings, decide whether it can be served, open it.

An index folder knows what it was built from (its manifest names the corpus and the model), so
serving a folder serves what is in it: the corpus is only compared when the settings name one
explicitly (`--corpus`, `QA_CORPUS`) or when the file the index was built from has changed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from embeddings.encoder import Embedder
from qa.config import Settings
from qa.documents.load import corpus_checksum, load_corpus
from qa.language.text import split_sentences
from qa.storage.base import PassageStore
from qa.storage.folder import open_version, read_passage_index, write_passage_index
from qa.storage.layout import IndexUnusableError, index_exists
from qa.storage.milvus import MilvusStore, where
from qa.storage.milvus_write import add_document, create_collections, delete_document, document_key, milvus_problem
from qa.types import Passage

log = logging.getLogger(__name__)


def embed_corpus(settings: Settings, corpus: Path, embedder: Embedder | None = None, progress: bool = False
                 ) -> tuple[list[Passage], list[int], np.ndarray, dict]:
    """Parse `corpus` and embed its passages and sentences: (passages, sentence owners, vectors, manifest)."""
    # nothing is served while indexing: use every core (QA_INDEX_THREADS) unless given a loaded embedder
    precision = settings.index_precision or settings.encoder_precision
    embedder = embedder or Embedder.from_settings(settings.model_copy(update={
        "threads": settings.index_threads, "encoder_precision": precision}))
    passages = load_corpus(corpus)
    # sentence vectors let one sentence of a long, many-topic paragraph match a specific question
    owners, sentences = [], []
    for i, p in enumerate(passages):
        parts = split_sentences(p.text)
        if len(parts) > 1:
            owners += [i] * len(parts)
            sentences += parts
    pooled = settings.passage_vectors == "pooled"
    encoded = sorted(set(range(len(passages))) - set(owners)) if pooled else list(range(len(passages)))
    log.info("embedding %d passages and %d sentences from %s", len(encoded), len(sentences), corpus)
    vectors = embedder.encode_passages([passages[i].text for i in encoded] + sentences, progress=progress)
    if pooled:
        vectors = np.vstack([pool_passage_vectors(vectors, encoded, owners, sentences, len(passages)),
                             vectors[len(encoded):]])
    manifest = {
        "model": embedder.model_name,
        "passage_prefix": embedder.passage_prefix,
        "dimension": int(vectors.shape[1]),
        "corpus": str(Path(corpus).resolve()),
        "corpus_sha256": corpus_checksum(corpus),
        "passages": len(passages),
        "passage_vectors": settings.passage_vectors,
    }
    return passages, owners, vectors, manifest


def pool_passage_vectors(vectors: np.ndarray, encoded: list[int], owners: list[int], sentences: list[str],
                         count: int) -> np.ndarray:
    """All `count` passage vectors: the `encoded` ones as given (first rows of `vectors`), the others the
    unit mean of their sentences' vectors (the rows after), weighted by sentence length as a mean-pooling
    encoder weighs tokens."""
    out = np.zeros((count, vectors.shape[1]), dtype=np.float32)
    out[encoded] = vectors[: len(encoded)]
    weights = np.asarray([len(s) for s in sentences], dtype=np.float32)[:, None]
    np.add.at(out, np.asarray(owners, dtype=np.int64), vectors[len(encoded):] * weights)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def build_index(settings: Settings, embedder: Embedder | None = None, progress: bool = False) -> dict:
    """Parse `settings.corpus`, embed passages and sentences, write the index (or the Milvus collections
    afresh); returns its manifest."""
    passages, owners, vectors, manifest = embed_corpus(settings, settings.corpus, embedder, progress)
    if settings.vector_store == "milvus":
        store = MilvusStore(settings)
        meta = {k: manifest[k] for k in ("model", "passage_prefix", "dimension")}
        create_collections(store, meta["dimension"], meta)
        add_document(store, document_key(settings.corpus), manifest, passages, owners, vectors)
        return store.manifest
    return write_passage_index(settings.resolved_index_dir, passages, owners, vectors, settings.index_kind, manifest)


def add_to_index(settings: Settings, corpus: Path, embedder: Embedder | None = None, progress: bool = False) -> int:
    """Add (or replace) one document in the configured Milvus collection, embedding only it; its passages."""
    store = _open_milvus(settings, None)
    passages, owners, vectors, manifest = embed_corpus(settings, corpus, embedder, progress)
    if int(vectors.shape[1]) != store.manifest.get("dimension"):
        raise IndexUnusableError(f"{where(settings)} holds {store.manifest.get('dimension')}-d vectors, "
                                 f"the model gives {vectors.shape[1]}")
    add_document(store, document_key(corpus), manifest, passages, owners, vectors)
    return len(passages)


def delete_from_index(settings: Settings, document: str) -> int:
    """Remove a document (its file name) from the configured Milvus collection; the passages it had."""
    store = _open_milvus(settings, None)
    removed = delete_document(store, Path(document).name)
    if not removed:
        raise IndexUnusableError(f"no document {Path(document).name!r} in {where(settings)}")
    return removed


def index_location(settings: Settings) -> str:
    return where(settings) if settings.vector_store == "milvus" else str(settings.resolved_index_dir)


def _corpus_to_check(settings: Settings, manifest: dict) -> Path | None:
    """The configured corpus when the user named one, else the file the index says it was built from."""
    if "corpus" in settings.model_fields_set:
        return Path(settings.corpus)
    return Path(manifest["corpus"]) if manifest.get("corpus") else None


def stale_reason(settings: Settings, manifest: dict, corpus: Path | None) -> str | None:
    """Why an intact index no longer matches the configuration, or None when it does."""
    model = settings.embedding_model
    if manifest.get("model") != model:
        return f"built with model {manifest.get('model')!r}, configured {model!r}"
    if manifest.get("passage_prefix") != settings.passage_prefix:
        return "built with a different passage prefix"
    if corpus is None or not corpus.is_file():
        return None  # the index is all there is; serving it beats failing
    if corpus_checksum(corpus) != manifest.get("corpus_sha256"):
        if str(corpus.resolve()) != manifest.get("corpus"):
            return f"built from {manifest.get('corpus')}, configured {corpus}"
        return f"the corpus {corpus} changed since the index was built"
    return None


def _open_milvus(settings: Settings, corpus: Path | None) -> MilvusStore:
    store = MilvusStore(settings)
    problem = milvus_problem(settings, store, corpus)
    if problem:
        raise IndexUnusableError(problem)
    return store


def open_index(settings: Settings, corpus: Path | None = None) -> PassageStore:
    """Verify and open the configured store (index folder or Milvus collection); IndexUnusableError
    says what is wrong and what to run.

    `corpus` forces the comparison with that document (what `qa index --if-needed` builds)."""
    if settings.vector_store == "milvus":
        return _open_milvus(settings, corpus or (settings.corpus if "corpus" in settings.model_fields_set else None))
    index_dir = settings.resolved_index_dir
    folder, manifest = open_version(index_dir)
    reason = stale_reason(settings, manifest, corpus or _corpus_to_check(settings, manifest))
    if reason:
        raise IndexUnusableError(f"index in {index_dir} is stale ({reason}); rebuild it with `qa index`")
    return read_passage_index(folder, manifest)


def index_problem(settings: Settings, corpus: Path | None = None) -> str | None:
    """None if the index can be served as is, else why not (missing, corrupt, stale)."""
    try:
        open_index(settings, corpus)
    except IndexUnusableError as exc:
        return str(exc)
    return None


def ensure_index(settings: Settings, progress: bool = False, rebuild_stale: bool = False,
                 embedder: Embedder | None = None) -> str:
    """Make sure the configured index can be served: 'ready', 'built' (there was none) or 'rebuilt'.

    A missing index is built from `settings.corpus`; a stale or corrupt one is rebuilt only with
    `rebuild_stale` (otherwise IndexUnusableError: replacing a user's index is their call)."""
    index_dir = settings.resolved_index_dir
    problem = index_problem(settings, settings.corpus if rebuild_stale else None)
    if problem is None:
        return "ready"
    existed = MilvusStore(settings).exists() if settings.vector_store == "milvus" else index_exists(index_dir)
    if existed and not rebuild_stale:
        raise IndexUnusableError(problem)
    if existed:
        log.info("rebuilding the index: %s", problem)
    else:
        log.info("no index yet in %s: building one from %s", index_location(settings), settings.corpus)
    build_index(settings, embedder, progress=progress)
    return "rebuilt" if existed else "built"
