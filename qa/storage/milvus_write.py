"""Writing a corpus's Milvus collections (layout: qa/storage/milvus.py): create them, add a document's
passages and vectors, delete a document's; and refuse a collection built for another model.

A document is one file, keyed by its document id (qa/documents/load.py); adding one never re-embeds the others.
Rows are written passages-and-vectors first and the manifest row last, so a replica's answer cache (keyed on the
manifest) turns over once a document is complete.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.storage.folder import IndexContent
from qa.storage.layout import IndexUnusableError
from qa.storage.milvus import META, MilvusStore, _quoted, keyword_text, where
from qa.types import Passage

log = logging.getLogger(__name__)
MAX_ID, MAX_DOC, MAX_TERMS = 512, 1024, 65535  # VARCHAR lengths; 65535 holds ~6500 hashed terms (~3000 CJK chars)


def create_collections(store: MilvusStore, dimension: int, meta: dict) -> None:
    """Drop the corpus's collections and create them empty, with the manifest row for `meta`."""
    from pymilvus import DataType, Function, FunctionType

    c = store.client
    for name in (store.passages_c, store.units_c, store.docs_c):
        c.drop_collection(name)
    s = c.create_schema(auto_id=False)
    s.add_field("pid", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
    s.add_field("doc", DataType.VARCHAR, max_length=MAX_DOC)
    s.add_field("page", DataType.INT64)  # the page a passage starts on (0: not a paged document)
    s.add_field("passage", DataType.JSON)
    s.add_field("terms", DataType.VARCHAR, max_length=MAX_TERMS, enable_analyzer=True,
                analyzer_params={"tokenizer": "standard"})
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                            output_field_names=["sparse"]))
    ip = c.prepare_index_params()
    ip.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                 params={"bm25_k1": 1.2, "bm25_b": 0.75})  # qa/storage/keywords.py's parameters
    # Strong: a replica sees a document another process added as soon as that insert returns
    c.create_collection(store.passages_c, schema=s, index_params=ip, consistency_level="Strong")

    s = c.create_schema(auto_id=True)
    s.add_field("uid", DataType.INT64, is_primary=True)
    s.add_field("pid", DataType.VARCHAR, max_length=MAX_ID)
    s.add_field("doc", DataType.VARCHAR, max_length=MAX_DOC)
    s.add_field("seq", DataType.INT64)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    ip = c.prepare_index_params()
    if store.index_kind == "hnsw":  # the same graph parameters as qa/storage/vectors.py's FAISS HNSW
        ip.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params={"M": 32, "efConstruction": 200})
    else:
        ip.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    c.create_collection(store.units_c, schema=s, index_params=ip, consistency_level="Strong")

    s = c.create_schema(auto_id=False)
    s.add_field("doc", DataType.VARCHAR, is_primary=True, max_length=MAX_DOC)
    s.add_field("info", DataType.JSON)
    s.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
    ip = c.prepare_index_params()
    ip.add_index(field_name="placeholder", index_type="FLAT", metric_type="L2")
    c.create_collection(store.docs_c, schema=s, index_params=ip, consistency_level="Strong")
    c.insert(store.docs_c, [{"doc": META, "info": meta, "placeholder": [0.0, 0.0]}])


def delete_document(store: MilvusStore, key: str) -> int:
    """Remove a document's passages, vectors and manifest row; returns how many passages it had."""
    info = store.document_rows().get(key)
    if info is None or key == META:
        return 0
    c, expr = store.client, f"doc == {_quoted([key])[1:-1]}"
    c.delete(store.docs_c, filter=expr)  # first: the answer caches turn over before the passages go
    c.delete(store.passages_c, filter=expr)
    c.delete(store.units_c, filter=expr)
    return int(info.get("passages", 0))


def add_document(store: MilvusStore, key: str, info: dict, passages: list[Passage], owners: list[int],
                 vectors: np.ndarray) -> None:
    """Write one document (vectors: its passages', then its sentences' with `owners` saying whose),
    replacing what was indexed under the same key. Refuses ids another document already uses."""
    ids = [p.id for p in passages]
    clash = store.client.query(store.passages_c, filter=f"pid in {_quoted(ids)} and doc != {_quoted([key])[1:-1]}",
                               output_fields=["pid", "doc"], limit=3)
    if clash:
        raise IndexUnusableError(f"passage id {clash[0]['pid']!r} of {key} is already in document "
                                 f"{clash[0]['doc']!r} of {where(store.settings)}; ids must be unique")
    delete_document(store, key)
    seq, units = [0] * len(passages), [(p.id, 0) for p in passages]
    for owner in owners:
        seq[owner] += 1
        units.append((ids[owner], seq[owner]))
    c, batch = store.client, 1000
    rows = [{"pid": pid, "doc": key, "seq": s, "vector": v} for (pid, s), v in zip(units, vectors.tolist())]
    for at in range(0, len(rows), batch):
        c.insert(store.units_c, rows[at : at + batch])
    rows = [{"pid": p.id, "doc": key, "page": p.page or 0, "passage": p.to_dict(), "terms": keyword_text(p.text)}
            for p in passages]
    for at in range(0, len(rows), batch):
        c.insert(store.passages_c, rows[at : at + batch])
    info = {**info, "passages": len(passages), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    c.insert(store.docs_c, [{"doc": key, "info": info, "placeholder": [0.0, 0.0]}])
    log.info("added %d passages of %s to %s", len(passages), key, where(store.settings))


def replace_collection(settings: Settings, content: IndexContent) -> dict:
    """The configured collections afresh, holding `content`'s documents; their manifest."""
    store = MilvusStore(settings)
    meta = {"model": settings.embedding_model, "passage_prefix": settings.passage_prefix,
            "dimension": int(content.vectors.shape[1])}
    create_collections(store, meta["dimension"], meta)
    return add_content(store, content)


def add_content(store: MilvusStore, content: IndexContent) -> dict:
    """Each document of `content` (its passages, sentence owners and vectors) added to the collections."""
    if int(content.vectors.shape[1]) != store.manifest.get("dimension"):
        raise IndexUnusableError(f"{where(store.settings)} holds {store.manifest.get('dimension')}-d vectors, "
                                 f"the model gives {content.vectors.shape[1]}")
    n = len(content.passages)
    for entry in content.documents:
        rows = [i for i, p in enumerate(content.passages) if p.document and p.document.id == entry.document.id]
        index_of = {row: i for i, row in enumerate(rows)}
        sentences = [j for j, owner in enumerate(content.owners.tolist()) if owner in index_of]
        vectors = np.vstack([content.vectors[rows], content.vectors[[n + j for j in sentences]]])
        info = {**entry.to_dict(), "corpus_sha256": entry.document.sha256}
        add_document(store, entry.document.id, info, [content.passages[i] for i in rows],
                     [index_of[int(content.owners[j])] for j in sentences], vectors)
    return store.manifest


def milvus_problem(settings: Settings, store: MilvusStore, corpus: Path | None) -> str | None:
    """Why the collection cannot serve this configuration (missing, another model or dimension, another
    corpus), or None. Its manifest is compared as an index folder's is (qa/storage/lifecycle.py)."""
    if not store.exists():
        return f"no {where(settings)}; build it with `qa index`"
    docs = store.load().document_rows()
    meta = docs.pop(META, {})
    reason = None
    if meta.get("model") != settings.embedding_model:
        reason = f"built with model {meta.get('model')!r}, configured {settings.embedding_model!r}"
    elif meta.get("passage_prefix") != settings.passage_prefix:
        reason = "built with a different passage prefix"
    elif corpus is not None and corpus.is_file():
        from qa.documents.load import corpus_checksum

        info = next((d for d in docs.values() if d.get("source") == str(corpus.resolve())), None)
        if info is None:
            reason = f"holds {', '.join(sorted(docs)) or 'no document'}, configured {corpus}"
        elif info.get("corpus_sha256") != corpus_checksum(corpus):
            reason = f"the corpus {corpus} changed since it was indexed"
    return f"{where(settings)} is stale ({reason}); rebuild it with `qa index`" if reason else None
