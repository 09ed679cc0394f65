"""Building and loading a real index (real model) of a small document; stale/corrupt handling."""

from __future__ import annotations

import json

import pytest

from embeddings.encoder import Embedder
from embeddings.index import IndexUnusableError
from qa.retriever import HybridRetriever
from qa.store import build_index, index_problem, load_index

DOC = [
    {"id": "rain", "text": "今年雨季提前來臨,降雨量比往年多三成。農民因此推遲了播種。"},
    {"id": "school", "text": "新學校在九月開學,共招收了四百名學生。"},
    {"id": "bridge", "text": "跨河大橋於2021年動工,預計明年通車。"},
    {"id": "budget", "text": "市議會通過了五千萬元的年度預算,其中三成用於教育。"},
]


@pytest.fixture(scope="module")
def embedder(settings):
    return Embedder(cache_dir=settings.model_cache_dir).load()


@pytest.fixture()
def corpus(tmp_path):
    path = tmp_path / "doc.jsonl"
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in DOC), encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_build_load_and_search(tmp_path, corpus, embedder, kind):
    manifest = build_index(corpus, tmp_path / "ix", embedder, kind)
    assert manifest["passages"] == 4 and manifest["model"] == "multilingual-e5-small"
    index = load_index(tmp_path / "ix", embedder, corpus)
    assert len(index.vectors) == 4 + 2  # the rain passage has two sentences with their own vectors
    retriever = HybridRetriever(index, embedder)
    assert retriever.search("大桥什么时候开工?", 1)[0].passage.id == "bridge"  # Simplified question
    assert retriever.search("How many students did the new school admit?", 1)[0].passage.id == "school"
    hit = retriever.search("預算用於教育", 2)[0]
    assert hit.passage.id == "budget" and hit.dense_rank and hit.sparse_rank == 1


def test_changed_corpus_makes_index_stale(tmp_path, corpus, embedder):
    build_index(corpus, tmp_path / "ix", embedder)
    assert index_problem(tmp_path / "ix", embedder, corpus) is None
    corpus.write_text(corpus.read_text(encoding="utf-8") + '\n{"id": "new", "text": "新段落"}', encoding="utf-8")
    with pytest.raises(IndexUnusableError, match="stale .*corpus .* changed"):
        load_index(tmp_path / "ix", embedder, corpus)
    assert "stale" in index_problem(tmp_path / "ix", embedder, corpus)


def test_other_model_makes_index_stale(tmp_path, corpus, embedder):
    build_index(corpus, tmp_path / "ix", embedder)
    other = Embedder(model="some/other-model", cache_dir=embedder.cache_dir)
    with pytest.raises(IndexUnusableError, match="built with model 'multilingual-e5-small'"):
        load_index(tmp_path / "ix", other, corpus)


def test_corrupt_passages_file_is_refused(tmp_path, corpus, embedder):
    build_index(corpus, tmp_path / "ix", embedder)
    (tmp_path / "ix" / "passages.jsonl").write_text("garbage that is the same length?" * 10)
    problem = index_problem(tmp_path / "ix", embedder, corpus)
    assert problem and "corrupt" in problem and "qa index" in problem
