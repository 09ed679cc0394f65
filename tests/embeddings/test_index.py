from __future__ import annotations

import json

import numpy as np
import pytest

from embeddings.index import IndexUnusableError, VectorIndex, read_index, read_manifest, write_index


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_round_trip(tmp_path, kind):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex.build(vectors, kind)
    write_index(tmp_path / "ix", index, {"dimension": 16, "model": "m"}, {"extra.txt": "hello"})
    manifest = read_manifest(tmp_path / "ix")
    loaded = read_index(tmp_path / "ix", manifest)
    assert manifest["index_kind"] == kind and manifest["vectors"] == 200
    scores, rows = loaded.search(vectors[17], 5)
    assert rows[0] == 17 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(loaded.vectors(np.array([3, 4])), vectors[[3, 4]], atol=1e-6)
    assert (tmp_path / "ix" / "extra.txt").read_text() == "hello"


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown index kind"):
        VectorIndex.build(np.zeros((1, 4), dtype=np.float32), "ivf-pq")


def test_missing_truncated_and_unreadable(tmp_path):
    with pytest.raises(IndexUnusableError, match="no index"):
        read_manifest(tmp_path / "none")
    vectors = np.eye(4, dtype=np.float32)
    write_index(tmp_path / "ix", VectorIndex.build(vectors), {"dimension": 4}, {})
    faiss_file = tmp_path / "ix" / "vectors.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:20])
    with pytest.raises(IndexUnusableError, match="corrupt .*truncated"):
        read_manifest(tmp_path / "ix")
    (tmp_path / "ix" / "manifest.json").write_text("{not json")
    with pytest.raises(IndexUnusableError, match="corrupt"):
        read_manifest(tmp_path / "ix")


def test_rewrite_replaces_previous_index(tmp_path):
    write_index(tmp_path / "ix", VectorIndex.build(np.eye(4, dtype=np.float32)), {"dimension": 4}, {})
    write_index(tmp_path / "ix", VectorIndex.build(np.eye(3, dtype=np.float32)), {"dimension": 3}, {})
    assert json.loads((tmp_path / "ix" / "manifest.json").read_text())["vectors"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["ix"]  # no temporary or old folders left
