"""The Milvus backend (qa/storage/milvus.py, qa/storage/milvus_write.py) on embedded milvus-lite with the real models:
the same hits and answers as the FAISS index, stale collections refused, documents added and deleted live."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pymilvus", reason="QA_VECTOR_STORE=milvus needs pymilvus + milvus-lite (pip install '.[milvus]')")
pytest.importorskip("milvus_lite", reason="the tests run Milvus embedded: pip install milvus-lite")

from qa.pipeline import Pipeline  # noqa: E402
from qa.retrieval.hybrid import HybridRetriever  # noqa: E402
from qa.storage.collection import add_documents, build_index, remove_documents  # noqa: E402
from qa.storage.layout import IndexUnusableError  # noqa: E402
from qa.storage.lifecycle import index_problem, open_index  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.milvus]

DOC = [
    {"id": "rain", "text": "今年雨季提前來臨,降雨量比往年多三成。農民因此推遲了播種。"},
    {"id": "school", "text": "新學校在九月開學,共招收了四百名學生。"},
    {"id": "bridge", "text": "跨河大橋於2021年動工,預計明年通車。"},
    {"id": "budget", "text": "市議會通過了五千萬元的年度預算,其中三成用於教育。"},
]
QUESTIONS = ["大桥什么时候开工?", "How many students did the new school admit?", "預算用於教育", "降雨量增加了多少?"]


def write(path, docs):
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in docs), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def embedder(settings):
    return Pipeline(settings).embedder.load()


@pytest.fixture()
def doc_settings(settings, tmp_path):
    return settings.model_copy(update={"corpus": write(tmp_path / "doc.jsonl", DOC), "index_dir": tmp_path / "ix",
                                       "vector_store": "milvus", "milvus_uri": str(tmp_path / "m.db")})


def test_same_hits_as_faiss_and_a_manifest(doc_settings, embedder):
    manifest = build_index(doc_settings, embedder).manifest
    assert manifest["passages"] == 4 and manifest["model"] == "multilingual-e5-small"
    assert manifest["dimension"] == 384 and manifest["index_kind"] == "milvus-flat" and manifest["documents"] == 1
    faiss_settings = doc_settings.model_copy(update={"vector_store": "faiss"})
    build_index(faiss_settings, embedder)
    milvus, faiss = HybridRetriever(open_index(doc_settings), embedder), HybridRetriever(open_index(faiss_settings),
                                                                                        embedder)
    for question in QUESTIONS:
        got, want = milvus.search(question, 4), faiss.search(question, 4)
        assert [h.passage for h in got] == [h.passage for h in want], question
        assert [h.focus for h in got] == [h.focus for h in want]
        assert [h.sparse_rank for h in got] == [h.sparse_rank for h in want]
        for g, w in zip(got, want):
            assert g.dense_score == pytest.approx(w.dense_score, abs=1e-4)
            assert g.sparse_score == pytest.approx(w.sparse_score, rel=0.05)  # Milvus's BM25 statistics
    store = open_index(doc_settings)
    for forms in [("教育",), ("学校", "大橋"), ("雨",), ("火星",)]:  # as qa/language/names.py asks for a name
        assert store.share_holding(forms) == open_index(faiss_settings).share_holding(forms), forms
    assert store.share_holding(("学校", "大橋")) == 0.5
    assert store.by_id("doc:bridge").text == DOC[2]["text"] and store.by_id("nope") is None
    assert [(d.id, d.file, d.passages) for d in store.documents()] == [("doc", "doc.jsonl", 4)]
    only = HybridRetriever(store, embedder).search("大桥什么时候开工?", 4, documents=["doc"])
    assert only[0].passage.id == "doc:bridge" and only[0].passage.document.file == "doc.jsonl"


def test_stale_and_missing_collections_are_refused_in_one_line(doc_settings, embedder, tmp_path):
    problem = index_problem(doc_settings)
    assert problem.startswith("no Milvus collection 'doc'") and "qa index" in problem
    build_index(doc_settings, embedder)
    assert index_problem(doc_settings) is None
    other_model = doc_settings.model_copy(update={"embedding_model": "some/other-model"})
    problem = index_problem(other_model)
    assert "is stale (built with model 'multilingual-e5-small', configured 'some/other-model')" in problem
    assert "\n" not in problem
    write(doc_settings.corpus, DOC[:2])
    assert "changed since it was indexed" in index_problem(doc_settings, doc_settings.corpus)
    with pytest.raises(IndexUnusableError, match="rebuild it with `qa index`"):
        open_index(other_model)


def test_documents_added_replaced_and_deleted_without_reindexing(doc_settings, embedder, tmp_path):
    build_index(doc_settings, embedder)
    store = open_index(doc_settings)
    retriever = HybridRetriever(store, embedder)
    version = store.version()
    zoo = write(tmp_path / "zoo.jsonl", [{"id": "z1", "text": "動物園新來了兩隻熊貓,每天吃四十公斤竹子。"}])
    assert [d.id for d in add_documents(doc_settings, [zoo], embedder).added] == ["zoo"]
    assert store.count() == 5 and store.version() != version
    assert retriever.search("熊猫每天吃多少竹子?", 1)[0].passage.id == "zoo:z1"  # the open store sees it at once
    assert add_documents(doc_settings, [zoo], embedder).duplicates == [("zoo.jsonl", "zoo")]
    write(zoo, [{"id": "z1", "text": "動物園新來了一隻長頸鹿。"}])
    report = add_documents(doc_settings, [zoo], embedder)  # the same file, changed: replaced under its id
    assert [d.id for d in report.removed] == [d.id for d in report.added] == ["zoo"]
    assert store.count() == 5 and "長頸鹿" in store.by_id("zoo:z1").text
    # the open store cached the panda's vectors under the old version: it must score the giraffe's
    uncached = open_index(doc_settings.model_copy(update={"milvus_vector_cache": 0}))
    query = embedder.encode_queries(["長頸鹿"])[0]
    assert store.unit_scores(query, ["zoo:z1"])["zoo:z1"] == pytest.approx(
        uncached.unit_scores(query, ["zoo:z1"])["zoo:z1"], abs=1e-5)
    assert [d.id for d in remove_documents(doc_settings, ["zoo"]).removed] == ["zoo"]
    assert store.count() == 4 and store.by_id("zoo:z1") is None
    assert all(h.passage.id != "zoo:z1" for h in retriever.search("長頸鹿", 4))
    with pytest.raises(IndexUnusableError, match="no document 'zoo'"):
        remove_documents(doc_settings, ["zoo"])


REPORT_QUESTIONS = ["巴基斯坦的暴雨洪灾波及了多少人?", "2022年全球人口突破了哪個里程碑數字?",
                    "Where did the UN work to reduce divisive ethnic rhetoric?", "聯合國維和行動有多少名人員?"]


def test_report_answers_equal_faiss_and_readyz(pipeline, tmp_path):
    """The bundled report in Milvus: the same top passages and answers as the FAISS pipeline."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    s = pipeline.settings.model_copy(update={"vector_store": "milvus", "milvus_uri": str(tmp_path / "report.db")})
    build_index(s, pipeline.embedder)
    milvus = Pipeline(s)
    milvus.embedder, milvus.reader = pipeline.embedder, pipeline.reader
    milvus.load()
    for question in REPORT_QUESTIONS:
        got, want = milvus.ask(question, use_cache=False), pipeline.ask(question, use_cache=False)
        # the passages read (Milvus's BM25 statistics differ slightly: ranks past read_k may swap)
        read = pipeline.settings.read_k
        assert [h.passage.id for h in got.hits[:read]] == [h.passage.id for h in want.hits[:read]], question
        assert [(a.text, a.passage.id, a.start) for a in got.answers] == [
            (a.text, a.passage.id, a.start) for a in want.answers], question
    with TestClient(create_app(s, milvus)) as client:
        assert client.get("/readyz").json() == {"status": "ready"}
        health = client.get("/healthz").json()
        assert health["passages"] == 165 and health["index_kind"] == "milvus-flat"
