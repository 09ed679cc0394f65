"""An index version's manifest: what it was built from and every file's size and sha256.

The manifest records what the index was built from (model, dimension, corpus checksum, passage
count, format version) and each file's size and sha256, so that a stale or corrupt index is
refused instead of silently served. Where the files live, and how a new build replaces the old
one without a moment with no index, is qa/storage/layout.py.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from qa.storage.layout import MANIFEST, IndexUnusableError, corrupt, publish
from qa.storage.vectors import INDEX_KINDS, VECTORS, VectorIndex

# 2: sentence vectors after the passage vectors; 3: sha256 per file, versioned folders; 4: many documents, their
# originals, passages citing document and page
FORMAT_VERSION = 4
# what every manifest holds, with its JSON type; callers add the fields of their own files
FIELDS = {"format_version": int, "index_kind": str, "vectors": int, "dimension": int, "created": str, "files": dict}
_TYPE_NAMES = {int: "an integer", str: "a string", dict: "an object"}


def write_index(directory: Path, index: VectorIndex, manifest: dict, extra_files: dict[str, str],
                originals: dict[str, tuple[Path, str]] | None = None) -> Path:
    """Write index + manifest + extra text files (+ `originals`: name -> (file, its sha256), linked or copied in) as
    a new version of the index in `directory` and make it the served one; returns the version's folder (what
    read_manifest and read_index take)."""
    import faiss

    contents: dict[str, bytes | Path] = {VECTORS: faiss.serialize_index(index.index).tobytes()}
    contents |= {name: text.encode("utf-8") for name, text in extra_files.items()}
    files = {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
             for name, data in contents.items() if isinstance(data, bytes)}
    for name, (path, sha256) in (originals or {}).items():
        contents[name] = Path(path)
        files[name] = {"bytes": Path(path).stat().st_size, "sha256": sha256}
    full = {
        **manifest,
        "format_version": FORMAT_VERSION,
        "index_kind": index.kind,
        "vectors": len(index),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": files,
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
    """The verified manifest of an index version (see layout.current_version), checked once, at load:
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


