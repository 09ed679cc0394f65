"""The index files on disk (real FAISS, real files): round trip, versions behind one `current` link, crashes at
every step of a build, same-size corruption and malformed manifests refused in one line, the old layout."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from qa.storage import layout as index_layout
from qa.storage.layout import IndexUnusableError, current_version
from qa.storage.manifest import read_manifest, write_index
from qa.storage.vectors import VectorIndex, read_index


def write(directory, n: int = 4, extra: dict | None = None):
    """An index of n orthonormal 8-d vectors (so a build is told from another by its size)."""
    vectors = np.eye(n, 8, dtype=np.float32)
    return write_index(directory, VectorIndex.build(vectors), {"dimension": 8}, extra or {"extra.txt": "80億人"})


def served(directory) -> int:
    """Vectors in the index the configured path serves; IndexUnusableError when there is none."""
    folder = current_version(directory)
    return len(read_index(folder, read_manifest(folder)))


def refused(directory) -> str:
    with pytest.raises(IndexUnusableError) as info:
        served(directory)
    message = str(info.value)
    assert "\n" not in message and "qa index" in message
    return message


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_round_trip(tmp_path, kind):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    folder = write_index(tmp_path / "ix", VectorIndex.build(vectors, kind), {"dimension": 16, "model": "m"},
                         {"extra.txt": "hello"})
    assert current_version(tmp_path / "ix") == folder and folder.parent == tmp_path / "ix" / "versions"
    manifest = read_manifest(folder)
    loaded = read_index(folder, manifest)
    assert manifest["index_kind"] == kind and manifest["vectors"] == 200 and manifest["format_version"] == 4
    assert manifest["files"]["extra.txt"] == {"bytes": 5, "sha256": manifest["files"]["extra.txt"]["sha256"]}
    scores, rows = loaded.search(vectors[17], 5)
    assert rows[0] == 17 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(loaded.vectors(np.array([3, 4])), vectors[[3, 4]], atol=1e-6)
    assert (folder / "extra.txt").read_text() == "hello"


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown index kind"):
        VectorIndex.build(np.zeros((1, 4), dtype=np.float32), "ivf-pq")


def test_missing_and_truncated(tmp_path):
    assert "no index in" in refused(tmp_path / "none")
    folder = write(tmp_path / "ix")
    faiss_file = folder / "vectors.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:20])
    assert "vectors.faiss is truncated" in refused(tmp_path / "ix")
    (folder / "extra.txt").unlink()
    assert "extra.txt is missing" in refused(tmp_path / "ix")


@pytest.mark.parametrize("name", ["vectors.faiss", "extra.txt"])
def test_same_size_corruption_is_detected(tmp_path, name):
    folder = write(tmp_path / "ix")
    data = bytearray((folder / name).read_bytes())
    if name == "extra.txt":
        data = bytearray(data.decode().replace("80億", "90億").encode())  # a quoted figure, same size
    else:
        data[len(data) - 20] ^= 0x40  # a bit of one vector
    assert len(data) == (folder / name).stat().st_size
    (folder / name).write_bytes(bytes(data))
    assert f"{name} does not match its sha256" in refused(tmp_path / "ix")


def test_rewrites_keep_the_current_and_one_previous_version(tmp_path):
    for n in (3, 4, 5):
        write(tmp_path / "ix", n)
    ix = tmp_path / "ix"
    assert served(ix) == 5
    assert sorted(p.name for p in ix.iterdir()) == [".lock", "current", "versions"]
    versions = sorted((ix / "versions").iterdir())  # named by build time
    assert len(versions) == 2 and versions[1] == current_version(ix)
    assert len(read_index(versions[0], read_manifest(versions[0]))) == 4  # the previous one, complete
    assert [p.name for p in tmp_path.iterdir()] == ["ix"]


def manifest_with(**changes):
    def edit(manifest: dict) -> dict:
        for key, value in changes.items():
            if value is KeyError:
                manifest.pop(key)
            else:
                manifest[key] = value
        return manifest

    return edit


MALFORMED = {
    "a list": (lambda m: [], "manifest.json is not a JSON object"),
    "files as a list": (manifest_with(files=["vectors.faiss", "extra.txt"]), "'files' is not an object"),
    "no dimension": (manifest_with(dimension=KeyError), "'dimension' is missing"),
    "vectors as text": (manifest_with(vectors="4"), "'vectors' is not an integer"),
    "vectors as true": (manifest_with(vectors=True), "'vectors' is not an integer"),
    "unknown kind": (manifest_with(index_kind="ivf"), "unknown index kind 'ivf'"),
    "old format": (manifest_with(format_version=2), "has format 2, this version reads 4"),
    "no format": (manifest_with(format_version=KeyError), "has format None"),
    "entry not an object": (lambda m: {**m, "files": {**m["files"], "extra.txt": 6}}, "entry for 'extra.txt'"),
    "a path in files": (lambda m: {**m, "files": {"../x": m["files"]["extra.txt"]}}, "entry for '../x'"),
    "a file not listed": (lambda m: {**m, "files": {"vectors.faiss": m["files"]["vectors.faiss"]}},
                          "extra.txt is not in manifest.json"),
    "a listed file absent": (lambda m: {**m, "files": {**m["files"], "more.txt": m["files"]["extra.txt"]}},
                             "more.txt is missing"),
    "no vectors listed": (lambda m: {**m, "files": {"extra.txt": m["files"]["extra.txt"]}},
                          "vectors.faiss is not in manifest.json"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_manifest_is_one_line(tmp_path, case):
    edit, expected = MALFORMED[case]
    folder = write(tmp_path / "ix")
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(edit(manifest)))
    assert expected in refused(tmp_path / "ix")


@pytest.mark.parametrize(("raw", "expected"), [(b"\xff\xfe{}", "not UTF-8"), (b"{not json", "not valid JSON"),
                                               (b"", "not valid JSON")])
def test_unreadable_manifest_is_one_line(tmp_path, raw, expected):
    folder = write(tmp_path / "ix")
    (folder / "manifest.json").write_bytes(raw)
    assert expected in refused(tmp_path / "ix")


def test_a_broken_current_link_is_one_line(tmp_path):
    ix = tmp_path / "ix"
    write(ix)
    (ix / "current").unlink()
    (ix / "current").symlink_to("/etc")
    assert "current points to '/etc'" in refused(ix)


def legacy_index(directory, format_version: int = 2):
    """An index as format 2 wrote it: the files straight in the folder, sizes only in the manifest."""
    directory.mkdir(parents=True)
    (directory / "vectors.faiss").write_bytes(b"x" * 10)
    (directory / "manifest.json").write_text(json.dumps({"format_version": format_version,
                                                         "files": {"vectors.faiss": 10}}))


def test_old_layout_is_refused_then_replaced(tmp_path):
    ix = tmp_path / "ix"
    legacy_index(ix)
    assert "has format 2, this version reads 4; rebuild it with `qa index`" in refused(ix)
    write(ix)
    assert served(ix) == 4 and sorted(p.name for p in ix.iterdir()) == [".lock", "current", "versions"]


def test_the_old_swaps_leftovers_are_recovered_then_removed(tmp_path):
    """The old writer crashed between its two renames: no INDEX_DIR, the index in INDEX_DIR.old, a temp folder."""
    legacy_index(tmp_path / "ix.old")
    (tmp_path / ".ix.ab3_x9zq").mkdir()
    (tmp_path / ".keep.ab3_x9zq").mkdir()  # not ours
    assert "has format 2" in refused(tmp_path / "ix")  # moved back into place, then refused for its format
    assert (tmp_path / "ix" / "manifest.json").is_file() and not (tmp_path / "ix.old").exists()
    (tmp_path / "ix.old").mkdir()
    write(tmp_path / "ix")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keep.ab3_x9zq", "ix"]


class Crash(OSError):
    pass


@contextmanager
def crash_at(monkeypatch, step: int):
    """Every file-system call a build makes counts as a step; the `step`-th one raises."""
    calls = {"n": 0}

    def counted(real):
        def call(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == step:
                raise Crash(f"injected at step {step}")
            return real(*args, **kwargs)

        return call

    with monkeypatch.context() as m:
        for name in ("replace", "symlink", "fsync", "mkdir", "unlink", "open"):
            m.setattr(os, name, counted(getattr(os, name)))
        m.setattr(index_layout, "open", counted(open), raising=False)  # the files' contents
        m.setattr(shutil, "rmtree", counted(shutil.rmtree))
        yield calls


@pytest.mark.parametrize("start", ["versioned", "old layout"])
def test_a_crash_at_any_step_leaves_an_index_served(tmp_path, monkeypatch, start):
    """A build that fails at step N, for every N: the path serves the old index or the new one, and the next
    build succeeds and leaves nothing behind."""
    step = 0
    while True:
        step += 1
        ix = tmp_path / f"ix{step}"
        if start == "versioned":
            write(ix, 3)
        else:
            legacy_index(ix)
        with crash_at(monkeypatch, step) as calls:
            try:
                write(ix, 5)
                finished = True
            except IndexUnusableError as exc:
                assert "cannot write the index" in str(exc) and "injected" in str(exc)
                finished = False
        if start == "versioned":
            assert served(ix) in (3, 5), step
        elif current_version(ix) == ix:
            assert "has format 2" in refused(ix)  # the old index, untouched
        else:
            assert served(ix) == 5
        write(ix, 6)
        assert served(ix) == 6
        leftovers = [p.name for p in (ix / "versions").iterdir() if p.name.startswith(".")]
        assert not leftovers and sorted(p.name for p in ix.iterdir()) == [".lock", "current", "versions"]
        if finished and calls["n"] < step:
            break
    assert step > 10  # every call of a build was made to fail once


def test_an_unwritable_place_is_one_line(tmp_path):
    with pytest.raises(IndexUnusableError, match=r"cannot write the index in /proc/x/ix: .*QA_HOME"):
        write(Path("/proc/x/ix"))
