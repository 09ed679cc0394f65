"""The index lifecycle (qa/indexing.py) on a small document with the real model: build, open,
stale and corrupt handling, and a folder that serves what it holds."""

from __future__ import annotations

import json

import pytest

from embeddings.index import IndexUnusableError
from qa.config import Settings
from qa.indexing import build_index, ensure_index, index_problem, open_index
from qa.pipeline import Pipeline
from qa.retriever import HybridRetriever

pytestmark = pytest.mark.slow

DOC = [
    {"id": "rain", "text": "今年雨季提前來臨,降雨量比往年多三成。農民因此推遲了播種。"},
    {"id": "school", "text": "新學校在九月開學,共招收了四百名學生。"},
    {"id": "bridge", "text": "跨河大橋於2021年動工,預計明年通車。"},
    {"id": "budget", "text": "市議會通過了五千萬元的年度預算,其中三成用於教育。"},
]


@pytest.fixture(scope="module")
def embedder(settings):
    return Pipeline(settings).embedder.load()


@pytest.fixture()
def corpus(tmp_path):
    path = tmp_path / "doc.jsonl"
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in DOC), encoding="utf-8")
    return path


@pytest.fixture()
def doc_settings(settings, tmp_path, corpus) -> Settings:
    return settings.model_copy(update={"corpus": corpus, "index_dir": tmp_path / "ix"})


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_build_load_and_search(doc_settings, embedder, kind):
    s = doc_settings.model_copy(update={"index_kind": kind})
    manifest = build_index(s, embedder)
    assert manifest["passages"] == 4 and manifest["model"] == "multilingual-e5-small"
    assert manifest["index_kind"] == kind
    index = open_index(s)
    assert len(index.vectors) == 4 + 2  # the rain passage has two sentences with their own vectors
    retriever = HybridRetriever(index, embedder)
    assert retriever.search("大桥什么时候开工?", 1)[0].passage.id == "bridge"  # Simplified question
    assert retriever.search("How many students did the new school admit?", 1)[0].passage.id == "school"
    hit = retriever.search("預算用於教育", 2)[0]
    assert hit.passage.id == "budget" and hit.dense_rank and hit.sparse_rank == 1


def test_changed_corpus_makes_index_stale(doc_settings, corpus, embedder):
    build_index(doc_settings, embedder)
    assert index_problem(doc_settings) is None
    corpus.write_text(corpus.read_text(encoding="utf-8") + '\n{"id": "new", "text": "新段落"}', encoding="utf-8")
    with pytest.raises(IndexUnusableError, match="stale .*corpus .* changed"):
        open_index(doc_settings)
    assert "stale" in index_problem(doc_settings)
    with pytest.raises(IndexUnusableError, match="stale"):
        ensure_index(doc_settings)  # a stale index is refused, not silently replaced
    assert ensure_index(doc_settings, rebuild_stale=True, embedder=embedder) == "rebuilt"
    assert len(open_index(doc_settings).passages) == 5


def test_a_folder_serves_what_it_was_built_from(doc_settings, embedder):
    """`qa index --corpus X --index-dir D` then `qa serve --index-dir D` (no --corpus) serves X."""
    build_index(doc_settings, embedder)
    served = Settings(home=doc_settings.home, index_dir=doc_settings.index_dir)  # corpus left at its default
    assert "corpus" not in served.model_fields_set
    assert [p.id for p in open_index(served).passages] == [d["id"] for d in DOC]
    bundled = served.model_copy(update={"corpus": served.corpus})  # naming another corpus explicitly does check
    with pytest.raises(IndexUnusableError, match="built from .*doc.jsonl"):
        open_index(bundled)


def test_other_model_makes_index_stale(doc_settings, embedder):
    build_index(doc_settings, embedder)
    other = doc_settings.model_copy(update={"embedding_model": "some/other-model"})
    with pytest.raises(IndexUnusableError, match="built with model 'multilingual-e5-small'"):
        open_index(other)


def test_missing_index_is_built_once(doc_settings, embedder):
    assert "no index" in index_problem(doc_settings)
    assert ensure_index(doc_settings, embedder=embedder) == "built"
    assert ensure_index(doc_settings, embedder=embedder) == "ready"


def test_corrupt_passages_file_is_refused(doc_settings, embedder):
    build_index(doc_settings, embedder)
    (doc_settings.index_dir / "passages.jsonl").write_text("garbage that is the same length?" * 10)
    problem = index_problem(doc_settings)
    assert problem and "corrupt" in problem and "qa index" in problem
