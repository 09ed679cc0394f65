"""The English query map: the bundled file, writing and reading one, fitting one on real vectors, and that
retrieval maps English questions' vectors only."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embeddings.e5_weights import PACKAGED_MODEL_NAME
from qa.retrieval.query_map import BUNDLED_QUERY_MAP, QueryMap, QueryMapError, query_map_for


def test_the_bundled_map_is_for_the_packaged_model_and_moves_vectors():
    found = QueryMap.read(BUNDLED_QUERY_MAP)
    assert found.fits(PACKAGED_MODEL_NAME, 384)
    assert np.abs(found.matrix - np.eye(384)).max() > 0.01
    assert found.info["fit"]["held_out_recall@1_after"] > found.info["fit"]["held_out_recall@1_before"]
    vector = np.random.default_rng(0).standard_normal(384).astype(np.float32)
    assert abs(np.linalg.norm(found(vector)) - 1) < 1e-5


def test_a_map_round_trips_and_another_models_map_is_not_used(tmp_path):
    matrix = np.eye(8, dtype=np.float32) * 2
    path = tmp_path / "map"  # no .npz: written under exactly this name
    QueryMap(matrix, "some-model", {"note": "test"}).write(path)
    back = QueryMap.read(path)
    assert np.array_equal(back.matrix, matrix) and back.model == "some-model" and back.info["note"] == "test"
    assert query_map_for("some-model", 8, path) is not None
    assert query_map_for(PACKAGED_MODEL_NAME, 384, path) is None


def test_a_file_that_is_not_a_map_is_refused_in_one_line(tmp_path):
    path = tmp_path / "map.npz"
    path.write_text("not a map")
    with pytest.raises(QueryMapError, match="not a query map"):
        QueryMap.read(path)


def test_only_questions_without_chinese_are_mapped(variant):
    mapped, plain = variant(map_english_queries=True), variant(map_english_queries=False)
    assert mapped.retriever.english_query_map is not None and plain.retriever.english_query_map is None
    chinese = "2022年人道主義援助籌集了多少資金?"
    assert [h.dense_score for h in mapped.search(chinese)] == [h.dense_score for h in plain.search(chinese)]
    english = "How much humanitarian funding was raised in 2022?"
    assert [h.dense_score for h in mapped.search(english)] != [h.dense_score for h in plain.search(english)]


def test_the_map_finds_by_vector_what_only_keywords_found_before(variant):
    question = "Which two ports would be forced to close if the FSO Safer tanker leaked?"  # dev2-043
    box = "“安全号”油轮:防止人道主义和环境灾难"
    mapped, plain = (variant(expand_english=False, map_english_queries=on).search(question) for on in (True, False))
    assert mapped[0].passage.box == box and mapped[0].dense_rank == 1
    assert plain[0].passage.box != box


@pytest.mark.slow
def test_fitting_on_translated_questions_ranks_their_paragraphs_higher(tmp_path):
    from qa.eval import squad_pipeline
    from qa.train.query_map import MapConfig, examples_from, fit_query_map

    topics = [("港口", "新港口的貨櫃碼頭去年處理了三百萬個標準箱,比前年增加一成。", "港口去年處理了多少貨櫃?",
               "How many containers did the port handle last year?"),
              ("森林", "山區的森林火災燒毀了兩千公頃林地,消防員花了五天才撲滅。", "森林火災燒毀了多少林地?",
               "How much woodland did the forest fire burn?"),
              ("醫院", "市立醫院新增了兩百張病床,並聘請了五十名護理師。", "醫院新增了多少病床?",
               "How many beds did the city hospital add?"),
              ("鐵路", "高速鐵路延伸至南部城市,旅程時間縮短為九十分鐘。", "高鐵旅程縮短為多久?",
               "How long is the high-speed rail journey now?")]
    data = {"data": [{"title": t, "paragraphs": [{"id": f"{t}-p", "context": c, "qas": [
        {"id": f"{t}-q", "question": q, "answers": [{"text": c[:2], "answer_start": 0}]}]}]} for t, c, q, _ in topics]}
    path = tmp_path / "cmrc_tiny.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    pipeline = squad_pipeline(path, index_dir=tmp_path / "index", with_reader=False)
    english = {f"{t}-q": e for t, _, _, e in topics}
    examples = examples_from(pipeline.index, pipeline.embedder, path, english, MapConfig(candidates=4))
    assert len(examples) == 4 and all(len(e.units) == 4 for e in examples)
    matrix, report = fit_query_map(examples, MapConfig(candidates=4, epochs=30, temperature=0.01, step=1.0),
                                   held_share=0.25)
    assert matrix.shape == (384, 384) and report["questions"] == 4 and report["held_out_questions"] == 1
    assert report["training_recall@1"] == 1.0  # four questions, a free 384x384 map: it must fit them
