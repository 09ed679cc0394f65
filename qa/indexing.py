"""The index lifecycle, in one place: build it from settings, decide whether it can be served, open it.

An index folder knows what it was built from (its manifest names the corpus and the model), so
serving a folder serves what is in it: the corpus is only compared when the settings name one
explicitly (`--corpus`, `QA_CORPUS`) or when the file the index was built from has changed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from embeddings.encoder import Embedder
from embeddings.index_layout import IndexUnusableError, index_exists
from qa.config import Settings
from qa.corpus import corpus_checksum, load_corpus
from qa.store import LoadedIndex, open_version, read_passage_index, write_passage_index
from qa.text import split_sentences

log = logging.getLogger(__name__)


def build_index(settings: Settings, embedder: Embedder | None = None, progress: bool = False) -> dict:
    """Parse `settings.corpus`, embed passages and sentences, write the index; returns its manifest."""
    # nothing is served while indexing: use every core (QA_INDEX_THREADS) unless given a loaded embedder
    embedder = embedder or Embedder.from_settings(settings.model_copy(update={"threads": settings.index_threads}))
    corpus = settings.corpus
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
    manifest = {
        "model": embedder.model_name,
        "passage_prefix": embedder.passage_prefix,
        "dimension": int(vectors.shape[1]),
        "corpus": str(Path(corpus).resolve()),
        "corpus_sha256": corpus_checksum(corpus),
        "passages": len(passages),
    }
    return write_passage_index(settings.resolved_index_dir, passages, owners, vectors, settings.index_kind, manifest)


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


def open_index(settings: Settings, corpus: Path | None = None) -> LoadedIndex:
    """Verify and load the configured index folder; IndexUnusableError says what is wrong and what to run.

    `corpus` forces the comparison with that document (what `qa index --if-needed` builds)."""
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
    existed = index_exists(index_dir)
    if existed and not rebuild_stale:
        raise IndexUnusableError(problem)
    if existed:
        log.info("rebuilding the index: %s", problem)
    else:
        log.info("no index yet in %s: building one from %s", index_dir, settings.corpus)
    build_index(settings, embedder, progress=progress)
    return "rebuilt" if existed else "built"
