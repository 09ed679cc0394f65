"""Writing a corpus's Milvus collections (layout: qa/storage/milvus.py): create them, add a document's
passages and vectors, delete a document's; and refuse a collection built for another model.

A document is one corpus file, keyed by its file name; adding it again replaces its passages, and
adding one never re-embeds the others. Rows are written passages-and-vectors first and the manifest
row last, so a replica's answer cache (keyed on the manifest) turns over once a document is complete.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.storage.layout import IndexUnusableError
from qa.storage.milvus import META, MilvusStore, _quoted, keyword_text, where
from qa.types import Passage

log = logging.getLogger(__name__)
MAX_ID, MAX_DOC, MAX_TERMS = 512, 1024, 65535  # VARCHAR lengths; 65535 holds ~6500 hashed terms (~3000 CJK chars)


def document_key(corpus: Path) -> str:
    return Path(corpus).name


def create_collections(store: MilvusStore, dimension: int, meta: dict) -> None:
    """Drop the corpus's collections and create them empty, with the manifest row for `meta`."""
    from pymilvus import DataType, Function, FunctionType

    c = store.client
    for name in (store.passages_c, store.units_c, store.docs_c):
        c.drop_collection(name)
    s = c.create_schema(auto_id=False)
    s.add_field("pid", DataType.VARCHAR, is_primary=True, max_length=MAX_ID)
    s.add_field("doc", DataType.VARCHAR, max_length=MAX_DOC)
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
    info = store.documents().get(key)
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
    rows = [{"pid": p.id, "doc": key, "passage": p.to_dict(), "terms": keyword_text(p.text)} for p in passages]
    for at in range(0, len(rows), batch):
        c.insert(store.passages_c, rows[at : at + batch])
    info = {**info, "passages": len(passages), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    c.insert(store.docs_c, [{"doc": key, "info": info, "placeholder": [0.0, 0.0]}])
    log.info("added %d passages of %s to %s", len(passages), key, where(store.settings))


def milvus_problem(settings: Settings, store: MilvusStore, corpus: Path | None) -> str | None:
    """Why the collection cannot serve this configuration (missing, another model or dimension, another
    corpus), or None. Its manifest is compared as an index folder's is (qa/storage/lifecycle.py)."""
    if not store.exists():
        return f"no {where(settings)}; build it with `qa index`"
    docs = store.load().documents()
    meta = docs.pop(META, {})
    reason = None
    if meta.get("model") != settings.embedding_model:
        reason = f"built with model {meta.get('model')!r}, configured {settings.embedding_model!r}"
    elif meta.get("passage_prefix") != settings.passage_prefix:
        reason = "built with a different passage prefix"
    elif corpus is not None and corpus.is_file():
        from qa.documents.load import corpus_checksum

        info = docs.get(document_key(corpus))
        if info is None:
            reason = f"holds {', '.join(sorted(docs)) or 'no document'}, configured {corpus}"
        elif info.get("corpus_sha256") != corpus_checksum(corpus):
            reason = f"the corpus {corpus} changed since it was indexed"
    return f"{where(settings)} is stale ({reason}); rebuild it with `qa index`" if reason else None
