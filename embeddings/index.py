"""The FAISS vector index and its manifest.

The manifest records what the index was built from (model, dimension, corpus checksum, passage
count, format version) and each file's size and sha256, so that a stale or corrupt index is
refused instead of silently served. Where the files live, and how a new build replaces the old
one without a moment with no index, is embeddings/index_layout.py.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from embeddings.index_layout import MANIFEST, IndexUnusableError, corrupt, publish

FORMAT_VERSION = 3  # 2: sentence vectors after the passage vectors; 3: sha256 per file, versioned folders
VECTORS = "vectors.faiss"
INDEX_KINDS = ("flat", "hnsw")
# what every manifest holds, with its JSON type; callers add the fields of their own files
FIELDS = {"format_version": int, "index_kind": str, "vectors": int, "dimension": int, "created": str, "files": dict}
_TYPE_NAMES = {int: "an integer", str: "a string", dict: "an object"}


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


def write_index(directory: Path, index: VectorIndex, manifest: dict, extra_files: dict[str, str]) -> Path:
    """Write index + manifest + extra text files as a new version of the index in `directory` and make it
    the served one; returns the version's folder (what read_manifest and read_index take)."""
    import faiss

    contents = {VECTORS: faiss.serialize_index(index.index).tobytes()}
    contents |= {name: text.encode("utf-8") for name, text in extra_files.items()}
    full = {
        **manifest,
        "format_version": FORMAT_VERSION,
        "index_kind": index.kind,
        "vectors": len(index),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                  for name, data in contents.items()},
    }
    contents[MANIFEST] = json.dumps(full, indent=2, ensure_ascii=False).encode("utf-8")
    return publish(Path(directory), contents)


def _load_json(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_bytes().decode("utf-8"))
    except OSError as exc:
        raise corrupt(folder, f"{MANIFEST} unreadable: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise corrupt(folder, f"{MANIFEST} is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise corrupt(folder, f"{MANIFEST} is not valid JSON: line {exc.lineno}") from exc
    if not isinstance(manifest, dict):
        raise corrupt(folder, f"{MANIFEST} is not a JSON object")
    return manifest


def _check_fields(folder: Path, manifest: dict, fields: dict[str, type]) -> None:
    for key, kind in fields.items():
        value = manifest.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            problem = f"is not {_TYPE_NAMES[kind]}" if key in manifest else "is missing"
            raise corrupt(folder, f"{MANIFEST}: {key!r} {problem}")
    if manifest["index_kind"] not in INDEX_KINDS:
        raise corrupt(folder, f"{MANIFEST}: unknown index kind {manifest['index_kind']!r}")


def _check_files(folder: Path, listed: dict) -> None:
    """Every file of the version is listed; sizes first (cheap: truncation), then sha256 (any change)."""
    present = {p.name for p in folder.iterdir()} - {MANIFEST}
    for name, entry in listed.items():
        if (not isinstance(entry, dict) or type(entry.get("bytes")) is not int
                or not isinstance(entry.get("sha256"), str) or Path(name).name != name):
            raise corrupt(folder, f"{MANIFEST}: the entry for {name!r} is malformed")
    missing, unlisted = sorted(set(listed) - present), sorted(present - set(listed))
    if missing or unlisted or VECTORS not in listed:
        raise corrupt(folder, f"{missing[0]} is missing" if missing else
                      f"{unlisted[0]} is not in {MANIFEST}" if unlisted else f"{MANIFEST} lists no {VECTORS}")
    for name, entry in listed.items():
        if (folder / name).stat().st_size != entry["bytes"]:
            raise corrupt(folder, f"{name} is truncated or extended")
    for name, entry in listed.items():
        with open(folder / name, "rb") as fh:
            if hashlib.file_digest(fh, "sha256").hexdigest() != entry["sha256"]:
                raise corrupt(folder, f"{name} does not match its sha256")


def read_manifest(folder: Path, fields: dict[str, type] | None = None) -> dict:
    """The verified manifest of an index version (see index_layout.current_version), checked once, at load:
    format, the fields (FIELDS and the caller's) and every file's size and sha256."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise IndexUnusableError(f"no index in {folder} (no {MANIFEST}); build one with `qa index`")
    manifest = _load_json(folder)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexUnusableError(
            f"index in {folder} has format {manifest.get('format_version')!r}, this version reads "
            f"{FORMAT_VERSION}; rebuild it with `qa index`"
        )
    _check_fields(folder, manifest, {**FIELDS, **(fields or {})})
    try:
        _check_files(folder, manifest["files"])
    except OSError as exc:
        raise corrupt(folder, f"unreadable: {exc.strerror}") from exc
    return manifest


def read_index(folder: Path, manifest: dict) -> VectorIndex:
    import faiss

    try:
        index = faiss.read_index(str(Path(folder) / VECTORS))
    except RuntimeError as exc:
        raise corrupt(folder, f"{VECTORS} unreadable") from exc
    if index.ntotal != manifest["vectors"] or index.d != manifest["dimension"]:
        raise corrupt(folder, f"{VECTORS} does not match its manifest")
    return VectorIndex(index, manifest["index_kind"])
