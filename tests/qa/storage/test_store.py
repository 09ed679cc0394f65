"""The index lifecycle (qa/storage/lifecycle.py) on a small document with the real model: build, open,
stale and corrupt handling, and a folder that serves what it holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from qa.config import Settings
from qa.pipeline import Pipeline
from qa.retrieval.hybrid import HybridRetriever
from qa.storage.collection import build_index, ensure_index
from qa.storage.layout import IndexUnusableError, current_version
from qa.storage.lifecycle import index_problem, open_index

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
    manifest = build_index(s, embedder).manifest
    assert manifest["passages"] == 4 and manifest["model"] == "multilingual-e5-small"
    assert manifest["index_kind"] == kind
    index = open_index(s)
    assert len(index.vectors) == 4 + 2  # the rain passage has two sentences with their own vectors
    retriever = HybridRetriever(index, embedder)
    assert retriever.search("大桥什么时候开工?", 1)[0].passage.id == "doc:bridge"  # Simplified question
    assert retriever.search("How many students did the new school admit?", 1)[0].passage.id == "doc:school"
    hit = retriever.search("預算用於教育", 2)[0]
    assert hit.passage.id == "doc:budget" and hit.dense_rank and hit.sparse_rank == 1


def test_int8_passage_vectors_are_searched_with_fp32_queries(doc_settings, embedder, tmp_path):
    int8 = doc_settings.model_copy(update={"index_dir": tmp_path / "ix8", "index_precision": "int8"})
    build_index(doc_settings)
    build_index(int8)  # no embedder given: the index builds its own, at the index precision
    fp32_index, int8_index = open_index(doc_settings), open_index(int8)
    query = embedder.encode_queries(["大桥什么时候开工?"])[0]  # the serving (fp32) query encoder
    ids = [f"doc:{d['id']}" for d in DOC]
    exact, quantized = fp32_index.unit_scores(query, ids), int8_index.unit_scores(query, ids)
    assert all(abs(exact[i] - quantized[i]).max() < 0.05 for i in ids)  # close to fp32's vectors
    assert any(abs(exact[i] - quantized[i]).max() > 1e-4 for i in ids)  # yet from the int8 encoder
    for question in ("大桥什么时候开工?", "How many students did the new school admit?", "預算用於教育"):
        assert (HybridRetriever(int8_index, embedder).search(question, 1)[0].passage.id
                == HybridRetriever(fp32_index, embedder).search(question, 1)[0].passage.id)


def test_pooled_passage_vectors_come_from_the_sentences_and_still_find_the_passage(doc_settings, embedder, tmp_path):
    encoded = doc_settings.model_copy(update={"index_dir": tmp_path / "ixe", "passage_vectors": "encoded"})
    assert build_index(doc_settings, embedder).manifest["passage_vectors"] == "pooled"  # the default
    assert build_index(encoded, embedder).manifest["passage_vectors"] == "encoded"
    encoded_index, pooled_index = open_index(encoded), open_index(doc_settings)
    rows = np.arange(len(pooled_index.vectors))
    encoded_rows, pooled_rows = encoded_index.vectors.vectors(rows), pooled_index.vectors.vectors(rows)
    assert np.allclose(encoded_rows[1:], pooled_rows[1:], atol=1e-5)  # one-sentence passages and sentences
    first, second = DOC[0]["text"].split("。")[:2]
    expected = len(first + "。") * pooled_rows[4] + len(second + "。") * pooled_rows[5]  # the rain sentences
    assert np.allclose(pooled_rows[0], expected / np.linalg.norm(expected), atol=1e-5)
    assert not np.allclose(pooled_rows[0], encoded_rows[0], atol=1e-3)  # not the whole passage's vector
    assert HybridRetriever(pooled_index, embedder).search("今年的降雨量比往年多多少?", 1)[0].passage.id == "doc:rain"


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
    assert [p.local_id for p in open_index(served).passages] == [d["id"] for d in DOC]
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


SAME_SIZE_EDITS = {
    "passages.jsonl": lambda data: data.replace("於2021年".encode(), "於2031年".encode()),  # a quoted figure
    "sentences.json": lambda data: data.replace(b"0", b"1", 1),  # a sentence given to another passage
    "vectors.faiss": lambda data: data[:-20] + bytes([data[-20] ^ 0x40]) + data[-19:],  # one bit of a vector
}


@pytest.mark.parametrize("name", SAME_SIZE_EDITS)
def test_same_size_corruption_is_refused_at_load(doc_settings, embedder, name):
    build_index(doc_settings, embedder)
    path = current_version(doc_settings.index_dir) / name
    data = path.read_bytes()
    path.write_bytes(SAME_SIZE_EDITS[name](data))
    assert path.stat().st_size == len(data) and path.read_bytes() != data
    problem = index_problem(doc_settings)
    assert f"corrupt ({name} does not match its sha256); rebuild it with `qa index`" in problem and "\n" not in problem
    with pytest.raises(IndexUnusableError, match="does not match its sha256"):
        Pipeline(doc_settings).load(with_reader=False)


# `qa index` whose index writer dies by SIGKILL at its Nth replace/symlink/fsync (argv[1]); the rest is argv
KILLED_AT = """
import os, signal, sys
import qa.storage.layout as layout

class Dying:
    calls = 0
    def __getattr__(self, name):
        real = getattr(os, name)
        if name not in ("replace", "symlink", "fsync"):
            return real
        def call(*args):
            Dying.calls += 1
            if Dying.calls == int(sys.argv[1]):
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args)
        return call

layout.os = Dying()
from qa.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_qa_index_killed_at_any_step_leaves_an_index_served(doc_settings, embedder, settings, corpus):
    """Each build fsyncs 6 files (3: mid-way: vectors, passages, sentences, documents, the original, the manifest)
    and its folder, renames it (8: before), links it (9), switches `current` (10: before) and fsyncs that (11: after
    the switch). Killed there, no clean-up code runs."""
    build_index(doc_settings, embedder)
    ix = doc_settings.index_dir
    old = current_version(ix)
    args = ["index", "--corpus", str(corpus), "--index-dir", str(ix)]
    for step in (3, 8, 10, 11):
        r = subprocess.run([sys.executable, "-c", KILLED_AT, str(step), *args], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "QA_HOME": str(settings.home)})
        assert r.returncode == -signal.SIGKILL, r.stderr
        assert (current_version(ix) == old) == (step < 11)
        assert len(open_index(doc_settings).passages) == 4  # complete: every file's sha256 checked
    assert {p.name[:5] for p in (ix / "versions").iterdir()} >= {".tmp-"}  # a killed build's folder
    build_index(doc_settings, embedder)  # the next build removes what the killed ones left
    assert sorted(p.name for p in ix.iterdir()) == [".lock", "current", "versions"]
    assert len(list((ix / "versions").iterdir())) == 2
