"""The Milvus backend of the store interface (qa/storage/base.py): the same code serves an embedded milvus-lite
file (QA_MILVUS_URI=path.db), a standalone server or a cluster (http://host:19530, QA_MILVUS_TOKEN).

A corpus is three collections named after it (QA_MILVUS_COLLECTION, default the corpus file's stem):
  NAME_passages  one row per passage: its document and page, the passage as JSON, its keyword terms and Milvus's
                 BM25 of them
  NAME_units     one row per vector: the passage's own (seq 0), then one per sentence (seq 1, 2, ...)
  NAME_docs      the manifest: one row per indexed document (by its id), and row "" for the model and dimension
Every row names its document (`doc`, a scalar field): a question restricted to some documents is filtered there.
Passages and vectors live apart so that BM25's statistics count passages only; the manifest has its
own collection because every Milvus collection needs a vector field (a 2-d placeholder there).

Milvus's analyzers neither fold Traditional/Simplified script nor split CJK runs into characters, so
the keyword field holds the same folded character uni+bigrams as qa/storage/keywords.py, each written as a short
hex hash: the `standard` tokenizer keeps those whole, and Milvus computes BM25 over exactly our terms.
Several `qa serve` replicas answer from one Milvus. A replica keeps only an LRU of unit vectors keyed by
the collection's content version (QA_MILVUS_VECTOR_CACHE): losing it loses nothing, and a document
another replica adds changes the version, so no stale vector is used.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.lru import LruCache
from qa.storage.base import UNITS_PER_PASSAGE
from qa.storage.keywords import bigrams, terms
from qa.storage.layout import IndexUnusableError
from qa.types import Document, Passage

META = ""  # the docs row that holds the model, prefix and dimension
MAX_LIMIT = 16384  # the most hits one Milvus search returns
VECTOR_BATCH = 128  # passages whose unit vectors one query fetches (far below MAX_LIMIT rows)


class MilvusUnavailableError(IndexUnusableError):
    """pymilvus is not installed, or the Milvus URI does not answer."""


def milvus_uri(settings: Settings) -> str:
    return settings.milvus_uri or str(settings.home / "milvus.db")


def collection_name(settings: Settings) -> str:
    """QA_MILVUS_COLLECTION, else the corpus file's stem (Milvus allows letters, digits and _)."""
    name = settings.milvus_collection or re.sub(r"\W", "_", settings.corpus.stem, flags=re.ASCII)
    return name if name[:1].isalpha() else f"c_{name}"


def where(settings: Settings) -> str:
    return f"Milvus collection {collection_name(settings)!r} at {milvus_uri(settings)}"


@cache
def _client(uri: str, token: str):
    """One client per URI and process: milvus-lite lets one process open a data file."""
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise MilvusUnavailableError("QA_VECTOR_STORE=milvus needs pymilvus: pip install 'cited-qa[milvus]'") from exc
    try:
        return MilvusClient(uri=uri, token=token)
    except Exception as exc:  # pymilvus raises its own errors and grpc's; any of them means "not reachable"
        raise MilvusUnavailableError(f"cannot reach Milvus at {uri}: {str(exc).splitlines()[0]}") from exc


def client_for(settings: Settings):
    return _client(milvus_uri(settings), settings.milvus_token)


def _hashed(term: str) -> str:
    return "t" + hashlib.blake2b(term.encode("utf-8"), digest_size=4).hexdigest()


def keyword_text(text: str, distinct: bool = False) -> str:
    """qa/storage/keywords.py's terms as space-separated hex hashes (a question's terms once each, as there)."""
    found = terms(text)
    if distinct:
        found = list(dict.fromkeys(found))
    return " ".join(_hashed(t) for t in found)


def _quoted(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def _in_documents(documents: list[str] | None) -> str:
    """The filter that keeps rows of these documents (document is a scalar field of every row)."""
    return "" if documents is None else f"doc in {_quoted(documents)}"


class MilvusStore:
    """A PassageStore over one corpus's collections; every call asks Milvus, but unit vectors seen under
    the current content version are reused (`unit_scores`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = collection_name(settings)
        self.passages_c, self.units_c, self.docs_c = (f"{self.name}_{s}" for s in ("passages", "units", "docs"))
        self.client = client_for(settings)
        self.index_kind = settings.index_kind
        self.kind = f"milvus-{self.index_kind}"
        self.remote = True
        self._vectors = LruCache(settings.milvus_vector_cache)  # (version, pid) -> its units' vectors, in seq order
        self._shares = LruCache(1024)  # (version, a name's forms) -> the share of passages holding it

    def exists(self) -> bool:
        return all(self.client.has_collection(c) for c in (self.passages_c, self.units_c, self.docs_c))

    def load(self) -> MilvusStore:
        """Bring the collections into Milvus's memory (a reopened data file or a restarted server has them
        released); a no-op when another process already did."""
        for name in (self.passages_c, self.units_c, self.docs_c):
            self.client.load_collection(name)
        return self

    def document_rows(self) -> dict[str, dict]:
        """Document id -> what was indexed (the Document's fields, its source path and sha256, created); META -> the
        model."""
        rows = self.client.query(self.docs_c, filter='doc != "~"', output_fields=["doc", "info"])
        return {r["doc"]: r["info"] for r in rows}

    def documents(self) -> list[Document]:
        rows = self.document_rows()
        rows.pop(META, None)
        fields = Document.__dataclass_fields__
        return [Document(**{k: v for k, v in info.items() if k in fields}) for _, info in sorted(rows.items())]

    def original(self, document_id: str) -> Path | None:
        """Originals are not kept beside a Milvus collection (its replicas share no folder)."""
        return None

    @property
    def manifest(self) -> dict:
        docs = self.document_rows()
        meta = docs.pop(META, {})
        single = next(iter(docs.values())) if len(docs) == 1 else {}
        return {**meta, "index_kind": self.kind, "corpus": single.get("source") or "", "passages": self.count(),
                "corpus_sha256": single.get("sha256", ""), "documents": len(docs),
                "created": max((d["created"] for d in docs.values()), default="")}

    def count(self) -> int:
        return int(self.client.query(self.passages_c, filter="", output_fields=["count(*)"])[0]["count(*)"])

    def version(self) -> str:
        docs = self.document_rows()
        return hashlib.sha256(json.dumps(docs, sort_keys=True).encode()).hexdigest()[:16]

    def ping(self) -> None:
        if not self.client.has_collection(self.passages_c):
            raise MilvusUnavailableError(f"{where(self.settings)} is gone")

    def search_dense(self, query: np.ndarray, k: int, documents: list[str] | None = None) -> list[tuple[str, float]]:
        found = self.client.search(self.units_c, data=[np.asarray(query, dtype=np.float32).tolist()],
                                   anns_field="vector", limit=k * UNITS_PER_PASSAGE, output_fields=["pid"],
                                   filter=_in_documents(documents),
                                   search_params={"metric_type": "IP", "params": {"ef": 128}})[0]
        best: dict[str, float] = {}
        for hit in found:
            best.setdefault(hit["entity"]["pid"], float(hit["distance"]))
        return list(best.items())[:k]

    def _bm25(self, text: str, limit: int, pid_filter: str = "") -> list[tuple[str, float]]:
        found = self.client.search(self.passages_c, data=[text], anns_field="sparse", limit=limit,
                                   filter=pid_filter, output_fields=["pid"], search_params={"metric_type": "BM25"})
        # milvus-lite reports BM25 as a negative distance (smaller is better); the score is its size
        return [(hit["entity"]["pid"], abs(float(hit["distance"]))) for hit in found[0]]

    def search_keywords(self, question: str, k: int, documents: list[str] | None = None) -> list[tuple[str, float]]:
        text = keyword_text(question, distinct=True)
        return [(pid, s) for pid, s in self._bm25(text, k, _in_documents(documents)) if s > 0] if text else []

    def keyword_scores(self, question: str, ids: list[str]) -> dict[str, float]:
        text = keyword_text(question, distinct=True)
        return dict(self._bm25(text, len(ids), f"pid in {_quoted(ids)}")) if text and ids else {}

    def share_holding(self, forms: tuple[str, ...]) -> float:
        """Counted by Milvus over the keyword field: passages with every bigram of a form (qa/storage/keywords.py's
        `holding`); once per content version."""
        key = (self.version(), forms)
        share = self._shares.get(key)
        if share is None:
            either = []
            for form in forms:
                either.append(" and ".join(f'terms like "%{_hashed(t)}%"' for t in bigrams(form)))
            total = self.count()
            held = self.client.query(self.passages_c, filter=" or ".join(f"({e})" for e in either if e),
                                     output_fields=["count(*)"])[0]["count(*)"] if total and any(either) else 0
            share = int(held) / total if total else 0.0
            self._shares.put(key, share)
        return share

    def unit_scores(self, query: np.ndarray, ids: list[str]) -> dict[str, np.ndarray]:
        """Scored here from the passages' unit vectors, fetched once per content version: the dev set measured
        p50 ~45 ms over FAISS when Milvus scored ~550 units per question, since milvus-lite costs ~30 us a row."""
        if not ids:
            return {}
        if self._vectors.size <= 0:
            return self._scored_by_milvus(query, ids)
        version = self.version()
        vectors = {pid: self._vectors.get((version, pid)) for pid in ids}
        missing = [pid for pid, v in vectors.items() if v is None]
        if missing:
            fetched = self._unit_vectors(missing)
            for pid, matrix in fetched.items():
                self._vectors.put((version, pid), matrix)
            vectors |= fetched
        q = np.asarray(query, dtype=np.float32)
        return {pid: matrix @ q for pid, matrix in vectors.items() if matrix is not None}

    def _unit_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        grouped: dict[str, list[tuple[int, list[float]]]] = {}
        for at in range(0, len(ids), VECTOR_BATCH):
            rows = self.client.query(self.units_c, filter=f"pid in {_quoted(ids[at:at + VECTOR_BATCH])}",
                                     output_fields=["pid", "seq", "vector"])
            for row in rows:
                grouped.setdefault(row["pid"], []).append((row["seq"], row["vector"]))
        return {pid: np.asarray([v for _, v in sorted(units)], dtype=np.float32) for pid, units in grouped.items()}

    def _scored_by_milvus(self, query: np.ndarray, ids: list[str]) -> dict[str, np.ndarray]:
        """A search restricted to the passages' units, every one of them returned: scores, not vectors."""
        found = self.client.search(self.units_c, data=[np.asarray(query, dtype=np.float32).tolist()],
                                   anns_field="vector", filter=f"pid in {_quoted(ids)}", limit=MAX_LIMIT,
                                   output_fields=["pid", "seq"], search_params={"metric_type": "IP"})[0]
        grouped: dict[str, list[tuple[int, float]]] = {}
        for hit in found:
            grouped.setdefault(hit["entity"]["pid"], []).append((hit["entity"]["seq"], float(hit["distance"])))
        return {pid: np.asarray([s for _, s in sorted(units)]) for pid, units in grouped.items()}

    def _passages(self, expr: str, limit: int | None = None) -> list[Passage]:
        extra = {"limit": limit} if limit else {}
        rows = self.client.query(self.passages_c, filter=expr, output_fields=["passage", "doc"], **extra)
        return [Passage.from_dict(r["passage"]) for r in sorted(rows, key=lambda r: (r["doc"], r["passage"]["order"]))]

    def fetch(self, ids: Iterable[str]) -> list[Passage]:
        ids = list(dict.fromkeys(ids))
        return self._passages(f"pid in {_quoted(ids)}") if ids else []

    def by_id(self, passage_id: str) -> Passage | None:
        found = self.fetch([passage_id])
        return found[0] if found else None

    def find(self, paragraph: int | None = None, box: str | None = None) -> Passage | None:
        if paragraph is not None:
            found = self._passages(f'passage["paragraph"] == {int(paragraph)}', limit=1)
        else:
            prefix = json.dumps(str(box).rstrip().replace("%", "\\%") + "%", ensure_ascii=False)
            found = [p for p in self._passages(f'passage["box"] like {prefix}') if (p.box or "").rstrip() == box]
        return found[0] if found else None
