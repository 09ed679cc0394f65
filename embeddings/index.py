"""The FAISS vector index and its manifest.

The manifest records what the index was built from (model, dimension, corpus checksum, passage
count, format version) so that a stale or corrupt index is refused instead of silently served.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

FORMAT_VERSION = 2  # 2: sentence vectors after the passage vectors
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
INDEX_KINDS = ("flat", "hnsw")


class IndexUnusableError(RuntimeError):
    """The index on disk is missing, corrupt or stale; the message says which and what to run."""


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

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row numbers) of the k nearest rows for one query vector."""
        k = min(k, len(self))
        scores, rows = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros((0, self.index.d), dtype=np.float32)
        return self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64))


def write_index(directory: Path, index: VectorIndex, manifest: dict, extra_files: dict[str, str]) -> None:
    """Write index + manifest + extra text files into a temporary folder, then swap it into place."""
    import faiss

    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        faiss.write_index(index.index, str(tmp / VECTORS))
        for name, content in extra_files.items():
            (tmp / name).write_text(content, encoding="utf-8")
        full = {
            **manifest,
            "format_version": FORMAT_VERSION,
            "index_kind": index.kind,
            "vectors": len(index),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": {name: (tmp / name).stat().st_size for name in [VECTORS, *extra_files]},
        }
        (tmp / MANIFEST).write_text(json.dumps(full, indent=2, ensure_ascii=False), encoding="utf-8")
        old = directory.with_name(directory.name + ".old")
        if directory.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise IndexUnusableError(f"no index in {directory} (no {MANIFEST}); build one with `qa index`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexUnusableError(
            f"index in {directory} is corrupt ({MANIFEST} unreadable); rebuild it with `qa index`"
        ) from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexUnusableError(
            f"index in {directory} has format {manifest.get('format_version')}, this version reads "
            f"{FORMAT_VERSION}; rebuild it with `qa index`"
        )
    for name, size in manifest.get("files", {}).items():
        file = Path(directory) / name
        if not file.is_file() or file.stat().st_size != size:
            raise IndexUnusableError(
                f"index in {directory} is corrupt ({name} missing or truncated); rebuild it with `qa index`"
            )
    return manifest


def read_index(directory: Path, manifest: dict) -> VectorIndex:
    import faiss

    try:
        index = faiss.read_index(str(Path(directory) / VECTORS))
    except RuntimeError as exc:
        raise IndexUnusableError(
            f"index in {directory} is corrupt ({VECTORS} unreadable); rebuild it with `qa index`"
        ) from exc
    if index.ntotal != manifest.get("vectors") or index.d != manifest.get("dimension"):
        raise IndexUnusableError(f"index in {directory} does not match its manifest; rebuild it with `qa index`")
    return VectorIndex(index, manifest.get("index_kind", "flat"))
