"""Averaging readers (`qa average-readers`): the mean of real reader weights, its reader.json, validation on
the held-out split, and the readers it refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from embeddings.e5_package import ensure_packaged_model
from qa.reading.reader import READER_CONFIG, Reader
from qa.train.average import AverageError, average_readers, mean_state
from qa.train.export import reader_state, write_reader

SHIPPED = Path(__file__).resolve().parents[3] / "qa" / "bundled" / "reader"
HEAD = "qa_outputs.bias"


@pytest.fixture(scope="module")
def shifted_reader(tmp_path_factory):
    """The shipped reader with its span head's bias moved by +0.5."""
    state = reader_state(SHIPPED)
    state[HEAD] = state[HEAD] + 0.5
    out = tmp_path_factory.mktemp("shifted")
    write_reader(state, out, json.loads((SHIPPED / READER_CONFIG).read_text(encoding="utf-8")))
    return out


@pytest.mark.slow
def test_the_average_is_the_mean_and_loads(shifted_reader, tmp_path, settings):
    encoder = ensure_packaged_model(settings.model_cache_dir)
    meta = average_readers([SHIPPED, shifted_reader], tmp_path / "avg", encoder)
    original, mean = reader_state(SHIPPED), reader_state(tmp_path / "avg")
    assert mean.keys() == original.keys()
    assert torch.allclose(mean[HEAD], original[HEAD] + 0.25, atol=1e-3)
    assert all(torch.equal(mean[k], original[k]) for k in original if k != HEAD)
    assert [s["dir"] for s in meta["average_of"]] == [str(SHIPPED), str(shifted_reader)]
    assert meta["validation"] is None and meta["average_of"][0]["validation"]["f1"] > 0
    assert "DRCD_dev.json" in meta["data"]  # what the readers trained on, for `qa eval`'s warning
    context = "市議會通過了五千萬元的年度預算。"
    spans = Reader(tmp_path / "avg", encoder.parent, runtime="torch").load().read("年度預算是多少?", [context])
    assert spans and context[spans[0].start:spans[0].end] == "五千萬元"


@pytest.mark.slow
def test_with_training_data_the_average_is_validated(shifted_reader, tmp_path, settings):
    context = "市議會通過了五千萬元的年度預算。"
    drcd = tmp_path / "DRCD_tiny.json"
    drcd.write_text(json.dumps({"data": [{"title": "預算", "paragraphs": [{"id": "p", "context": context, "qas": [
        {"id": "q", "question": "年度預算是多少?", "answers": [{"text": "五千萬元", "answer_start": 6}]}]}]}]},
        ensure_ascii=False), encoding="utf-8")
    encoder = ensure_packaged_model(settings.model_cache_dir)
    meta = average_readers([SHIPPED, shifted_reader], tmp_path / "avg", encoder, [drcd])
    assert meta["validation"] == {"em": 100.0, "f1": 100.0, "questions": 1}
    assert json.loads((tmp_path / "avg" / READER_CONFIG).read_text(encoding="utf-8"))["validation"]["f1"] == 100.0


def test_readers_that_differ_are_refused(tmp_path):
    with pytest.raises(AverageError, match="different tensors"):
        mean_state([{"a": torch.zeros(2)}, {"b": torch.zeros(2)}])
    with pytest.raises(AverageError, match="differ in shape"):
        mean_state([{"a": torch.zeros(2)}, {"a": torch.zeros(3)}])
    for name, length in (("one", 256), ("two", 384)):
        (tmp_path / name).mkdir()
        (tmp_path / name / READER_CONFIG).write_text(json.dumps({"reader": {"max_length": length}}))
    with pytest.raises(AverageError, match="different settings"):
        average_readers([tmp_path / "one", tmp_path / "two"], tmp_path / "out", tmp_path)
    with pytest.raises(AverageError, match="two readers or more"):
        average_readers([tmp_path / "one"], tmp_path / "out", tmp_path)
    with pytest.raises(AverageError, match="not a reader folder"):
        average_readers([tmp_path / "one", tmp_path], tmp_path / "out", tmp_path)
    assert not (tmp_path / "out").exists()
