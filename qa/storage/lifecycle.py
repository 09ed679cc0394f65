"""Opening an index: decide whether it can be served and open it (building one, and changing its collection of
documents, is qa/storage/collection.py).

An index knows what it was built from (its manifest names the model and, for a one-document index, the file), so
serving a folder serves what is in it: the file is only compared when the settings name one explicitly (`--corpus`,
`QA_CORPUS`) or when the file a one-document index was built from has changed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from qa.config import Settings
from qa.documents.load import corpus_checksum
from qa.storage.base import PassageStore
from qa.storage.folder import open_version, read_passage_index
from qa.storage.layout import IndexUnusableError
from qa.storage.milvus import MilvusStore, where
from qa.storage.milvus_write import milvus_problem

log = logging.getLogger(__name__)


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
        if corpus is not None:  # the index is all there is; serving it beats failing, but not without a word
            log.warning("%s, which the index was built from, is gone: its passages are served unchecked", corpus)
        return None
    if corpus_checksum(corpus) != manifest.get("corpus_sha256"):
        if not manifest.get("corpus"):
            return f"it holds {manifest.get('documents')} documents, configured {corpus}"
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
