"""The FAISS vector index: inner-product search over L2-normalised vectors, flat (exact) or HNSW."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.storage.layout import corrupt

VECTORS = "vectors.faiss"
INDEX_KINDS = ("flat", "hnsw")


class VectorIndex:
    """Inner-product search over L2-normalised vectors (so scores are cosine similarities)."""

    def __init__(self, index, kind: str) -> None:
        self.index = index
        self.kind = kind

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat", hnsw_m: int = 32) -> VectorIndex:
        import faiss

        if kind not in INDEX_KINDS:
            raise ValueError(f"unknown index kind {kind!r}; choose one of {', '.join(INDEX_KINDS)}")
        dim = vectors.shape[1]
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 200
            index.hnsw.efSearch = 128
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, kind)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row numbers) of the k nearest rows for one query vector, among `rows` when given."""
        import faiss

        params = None
        if rows is not None:
            if not len(rows):
                return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
            chosen = faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
            params = (faiss.SearchParametersHNSW(sel=chosen, efSearch=self.index.hnsw.efSearch) if self.kind == "hnsw"
                      else faiss.SearchParameters(sel=chosen))
        k = min(k, len(self) if rows is None else len(rows))
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, found = self.index.search(query, k, params=params)
        keep = found[0] >= 0
        return scores[0][keep], found[0][keep]

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros((0, self.index.d), dtype=np.float32)
        return self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64))


def read_index(folder: Path, manifest: dict) -> VectorIndex:
    import faiss

    try:
        index = faiss.read_index(str(Path(folder) / VECTORS))
    except RuntimeError as exc:
        raise corrupt(folder, f"{VECTORS} unreadable") from exc
    if index.ntotal != manifest["vectors"] or index.d != manifest["dimension"]:
        raise corrupt(folder, f"{VECTORS} does not match its manifest")
    return VectorIndex(index, manifest["index_kind"])
