"""Building an index from files and folders, and changing its collection of documents in place.

`qa index PATH...` reads every file (folders recursively), embeds the passages and sentences of the documents that
could be read and writes one index; a file that can't be read is listed with the reason and the rest are indexed.
`add_documents` and `remove_documents` change a built index without embedding the documents it already holds: an
index folder gets a new version (the old one served until the switch), a Milvus collection gets or loses rows.
The same content twice (by sha256) is indexed once.
"""

from __future__ import annotations

import logging
import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.encoder import Embedder
from qa.config import Settings
from qa.documents.errors import CorpusError
from qa.documents.load import Limits, corpus_checksum, document_id, read_document
from qa.language.text import split_sentences
from qa.storage.folder import IndexContent, IndexedDocument, write_passage_index
from qa.storage.layout import IndexUnusableError, changing, index_exists
from qa.storage.lifecycle import index_location, index_problem, open_index
from qa.storage.milvus import MilvusStore
from qa.types import Document, Passage

log = logging.getLogger(__name__)


@dataclass
class IndexReport:
    """What a build or change did: documents added or removed, files skipped as duplicates, files that failed."""

    manifest: dict = field(default_factory=dict)
    added: list[Document] = field(default_factory=list)
    removed: list[Document] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, the id it is indexed under)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (file, why)


@dataclass
class _Read:
    document: Document
    passages: list[Passage]
    path: Path


def limits_of(settings: Settings) -> Limits:
    return Limits(settings.max_document_mb, settings.max_document_pages)


def collect_files(paths: list[Path]) -> list[tuple[Path, str]]:
    """(file, its name as cited) for every file named or under a folder named, recursively, in a stable order;
    hidden files and folders are passed over. A path that does not exist is a CorpusError."""
    found: list[tuple[Path, str]] = []
    for path in map(Path, paths):
        if path.is_file():
            found.append((path, path.name))
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(f for f in files if not f.startswith(".")):
                    file = Path(root) / name
                    found.append((file, file.relative_to(path).as_posix()))
        else:
            raise CorpusError(f"{path}: no such file or folder")
    return found


def read_files(files: list[tuple[Path, str]], limits: Limits, taken: set[str], known: dict[str, str],
               report: IndexReport, progress: bool = False, ids: dict[str, str] | None = None) -> list[_Read]:
    """Read each file into a document; `taken` are ids in use and `known` sha256 -> id of documents already
    indexed (both updated), `ids` file -> the id it keeps (a new version of an indexed file). Failures and
    duplicates go to `report`, the batch goes on."""
    from tqdm.auto import tqdm

    read: list[_Read] = []
    for path, file in tqdm(files, desc="reading", unit="file", disable=not progress or len(files) < 2):
        try:
            sha256 = corpus_checksum(path)
            if sha256 in known:
                report.duplicates.append((file, known[sha256]))
                continue
            doc_id = (ids or {}).get(file) or document_id(file, taken)
            document, passages = read_document(path, file, doc_id, limits, sha256)
        except CorpusError as exc:
            report.failures.append((file, str(exc).removeprefix(f"{path}: ")))
            continue
        except OSError as exc:
            report.failures.append((file, f"unreadable ({exc.strerror or exc})"))
            continue
        taken.add(document.id)
        known[sha256] = document.id
        read.append(_Read(document, passages, path))
    return read


def embed_passages(settings: Settings, passages: list[Passage], embedder: Embedder | None = None,
                   progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(sentence owners, vectors: the passages', then their sentences') of these passages."""
    # nothing is served while indexing: use every core (QA_INDEX_THREADS) unless given a loaded embedder
    precision = settings.index_precision or settings.encoder_precision
    embedder = embedder or Embedder.from_settings(settings.model_copy(update={
        "threads": settings.index_threads, "encoder_precision": precision}))
    # sentence vectors let one sentence of a long, many-topic paragraph match a specific question
    owners, sentences = [], []
    for i, p in enumerate(passages):
        parts = split_sentences(p.text)
        if len(parts) > 1:
            owners += [i] * len(parts)
            sentences += parts
    pooled = settings.passage_vectors == "pooled"
    encoded = sorted(set(range(len(passages))) - set(owners)) if pooled else list(range(len(passages)))
    log.info("embedding %d passages and %d sentences", len(encoded), len(sentences))
    vectors = embedder.encode_passages([passages[i].text for i in encoded] + sentences, progress=progress)
    if pooled:
        vectors = np.vstack([pool_passage_vectors(vectors, encoded, owners, sentences, len(passages)),
                             vectors[len(encoded):]])
    return np.asarray(owners, dtype=np.int64), vectors


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


def _content(read: list[_Read], settings: Settings, embedder: Embedder | None, progress: bool) -> IndexContent:
    passages = [p for r in read for p in r.passages]
    owners, vectors = embed_passages(settings, passages, embedder, progress)
    documents = [IndexedDocument(r.document, str(r.path.resolve()), None) for r in read]
    return IndexContent(passages, owners, vectors, documents)


def _merge(old: IndexContent, new: IndexContent) -> IndexContent:
    """Old passages then new: sentence rows renumbered, the vectors of both kept (nothing re-embedded)."""
    n_old, n_new = len(old.passages), len(new.passages)
    k_old = len(old.vectors) - n_old
    vectors = np.vstack([old.vectors[:n_old], new.vectors[:n_new], old.vectors[n_old:], new.vectors[n_new:]])
    owners = np.concatenate([old.owners, new.owners + n_old]).astype(np.int64)
    assert len(vectors) == n_old + n_new + k_old + len(new.owners)
    return IndexContent(old.passages + new.passages, owners, vectors, old.documents + new.documents)


def _without(content: IndexContent, ids: set[str]) -> IndexContent:
    """The content without these documents' passages, sentences and vectors."""
    keep = [i for i, p in enumerate(content.passages) if p.document is None or p.document.id not in ids]
    new_row = {old: new for new, old in enumerate(keep)}
    n = len(content.passages)
    sentences = [j for j, owner in enumerate(content.owners.tolist()) if owner in new_row]
    vectors = np.vstack([content.vectors[keep], content.vectors[[n + j for j in sentences]]]) if keep else \
        content.vectors[:0]
    owners = np.asarray([new_row[int(content.owners[j])] for j in sentences], dtype=np.int64)
    return IndexContent([content.passages[i] for i in keep], owners, vectors,
                        [d for d in content.documents if d.document.id not in ids])


def manifest_for(settings: Settings, embedder_name: str, dimension: int, documents: list[IndexedDocument]) -> dict:
    """What a version records: the model, and for a one-document index the file it was built from (so `qa serve`
    can tell when that file changed)."""
    single = documents[0] if len(documents) == 1 else None
    return {"model": embedder_name, "passage_prefix": settings.passage_prefix, "dimension": dimension,
            "corpus": single.source or "" if single else "", "corpus_sha256": single.document.sha256 if single else "",
            "passage_vectors": settings.passage_vectors}


def _write(settings: Settings, content: IndexContent, originals: dict[str, Path]) -> dict:
    if not content.passages:
        raise IndexUnusableError("the index would hold no passages; give at least one readable document")
    manifest = manifest_for(settings, settings.embedding_model, int(content.vectors.shape[1]), content.documents)
    return write_passage_index(settings.resolved_index_dir, content, settings.index_kind, manifest, originals)


def build_index(settings: Settings, embedder: Embedder | None = None, progress: bool = False,
                paths: list[Path] | None = None) -> IndexReport:
    """Index these files and folders (default: `settings.corpus`) afresh; CorpusError when none could be read."""
    report = IndexReport()
    files = collect_files(paths or [settings.corpus])
    read = read_files(files, limits_of(settings), set(), {}, report, progress)
    if not read:
        reasons = "; ".join(f"{f}: {why}" for f, why in report.failures[:5])
        raise CorpusError(f"nothing to index: no readable document in {len(files)} file(s)"
                          + (f" ({reasons})" if reasons else ""))
    content = _content(read, settings, embedder, progress)
    report.added = [r.document for r in read]
    if settings.vector_store == "milvus":
        from qa.storage.milvus_write import replace_collection

        report.manifest = replace_collection(settings, content)
    else:
        report.manifest = _write(settings, content, {r.document.id: r.path for r in read})
    return report


def add_documents(settings: Settings, paths: list[Path], embedder: Embedder | None = None,
                  progress: bool = False, names: dict[Path, str] | None = None) -> IndexReport:
    """Add the documents at `paths` to the configured index, embedding only them (`names`: how to cite a file, for
    an upload). A file indexed before under the same name and changed since replaces its old version."""
    files = [(path, (names or {}).get(path, file)) for path, file in collect_files(paths)]
    with _changing(settings):
        store = open_index(settings)
        report = IndexReport()
        existing = store.documents()
        taken, known = {d.id for d in existing}, {d.sha256: d.id for d in existing}
        ids = {d.file: d.id for d in existing}  # a file indexed before, changed since: replaced under its id
        read = read_files(files, limits_of(settings), taken, known, report, progress, ids)
        if not read:
            report.manifest = store.manifest
            return report
        new = _content(read, settings, embedder, progress)
        report.added = [r.document for r in read]
        replaced = {r.document.id for r in read} & {d.id for d in existing}
        report.removed = [d for d in existing if d.id in replaced]
        if settings.vector_store == "milvus":
            from qa.storage.milvus_write import add_content

            report.manifest = add_content(store, new)  # a document added under an id it had replaces it
            return report
        originals = {d.id: path for d in existing if (path := store.original(d.id)) is not None}
        kept = _without(store.content(), replaced)
        originals |= {r.document.id: r.path for r in read}
        report.manifest = _write(settings, _merge(kept, new), originals)
        return report


def remove_documents(settings: Settings, ids: list[str]) -> IndexReport:
    """Remove these documents (ids as `GET /v1/documents` lists them) from the configured index."""
    with _changing(settings):
        store = open_index(settings)
        existing = {d.id: d for d in store.documents()}
        unknown = [i for i in ids if i not in existing]
        if unknown:
            raise DocumentNotFound(f"no document {unknown[0]!r} in the index (it holds "
                                   f"{', '.join(sorted(existing)) or 'none'})")
        report = IndexReport(removed=[existing[i] for i in ids])
        if settings.vector_store == "milvus":
            from qa.storage.milvus_write import delete_document

            for document_id in ids:
                delete_document(store, document_id)
            report.manifest = store.manifest
            return report
        content = _without(store.content(), set(ids))
        originals = {d: path for d in existing if d not in ids and (path := store.original(d)) is not None}
        report.manifest = _write(settings, content, originals)
        return report


class DocumentNotFound(IndexUnusableError):
    """A document id the index does not hold."""


def _changing(settings: Settings):
    """The index folder's change lock (a Milvus collection takes its documents one at a time already)."""
    if settings.vector_store == "milvus":
        return nullcontext()
    return changing(settings.resolved_index_dir)


def ensure_index(settings: Settings, progress: bool = False, rebuild_stale: bool = False,
                 embedder: Embedder | None = None) -> str:
    """Make sure the configured index can be served: 'ready', 'built' (there was none) or 'rebuilt'.

    A missing index is built from `settings.corpus`; a stale or corrupt one is rebuilt only with
    `rebuild_stale` (otherwise IndexUnusableError: replacing a user's index is their call)."""
    if index_problem(settings, settings.corpus if rebuild_stale else None) is None:
        return "ready"
    with _changing(settings):  # replicas starting together: one builds, the others wait and find it ready
        problem = index_problem(settings, settings.corpus if rebuild_stale else None)
        if problem is None:
            return "ready"
        existed = MilvusStore(settings).exists() if settings.vector_store == "milvus" else \
            index_exists(settings.resolved_index_dir)
        if existed and not rebuild_stale:
            raise IndexUnusableError(problem)
        if existed:
            log.info("rebuilding the index: %s", problem)
        else:
            log.info("no index yet in %s: building one from %s", index_location(settings), settings.corpus)
        build_index(settings, embedder, progress=progress)
    return "rebuilt" if existed else "built"
