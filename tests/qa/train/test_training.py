"""Training the reader end to end on a tiny SQuAD file (real model, a few steps): the local path,
the bundle path used for GPU machines, checkpoint/resume, and that the export loads as a Reader."""

from __future__ import annotations

import json

import pytest

from embeddings.e5_package import ensure_packaged_model
from embeddings.e5_weights import packaged_weights_path
from qa.reading.reader import Reader
from qa.train import TrainConfig, make_bundle, run_bundle, split_questions, train_reader
from qa.train.loop import CheckpointError

pytestmark = pytest.mark.slow


def _article(title: str, context: str, qas: list[tuple[str, str]]) -> dict:
    return {
        "title": title,
        "paragraphs": [
            {
                "id": f"{title}-p",
                "context": context,
                "qas": [
                    {"id": f"{title}-{i}", "question": q, "answers": [{"text": a, "answer_start": context.find(a)}]}
                    for i, (q, a) in enumerate(qas)
                ],
            }
        ],
    }


@pytest.fixture(scope="module")
def tiny_drcd(tmp_path_factory):
    data = {
        "data": [
            _article(
                "大橋",
                "跨河大橋於2021年動工,預計明年通車,全長一千二百米。",
                [("大橋何時動工?", "2021年"), ("大橋多長?", "一千二百米")],
            ),
            _article("學校", "新學校在九月開學,共招收了四百名學生。", [("學校招收了多少學生?", "四百名學生")]),
            _article("預算", "市議會通過了五千萬元的年度預算。", [("年度預算是多少?", "五千萬元")]),
        ]
    }
    path = tmp_path_factory.mktemp("mrc") / "DRCD_tiny.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


CFG = dict(epochs=1.0, batch_size=2, negative_share=0.5, val_fraction=0.34, lr=1e-4)


def test_split_holds_out_whole_articles(tiny_drcd):
    train, val = split_questions([tiny_drcd], 0.34, 13)
    assert len(train) + len(val) == 4 and val
    assert not {q.paragraph.title for q in train} & {q.paragraph.title for q in val}


def test_train_export_resume_and_load(tiny_drcd, tmp_path, settings):
    encoder = ensure_packaged_model(settings.model_cache_dir)
    out = tmp_path / "reader"
    info = train_reader([tiny_drcd], encoder, out, TrainConfig(**CFG), device="cpu")
    assert info["validation"]["questions"] >= 1 and 0 <= info["validation"]["f1"] <= 100
    shards = sorted(out.glob("reader-*.safetensors"))
    assert shards and (out / "reader.json").is_file() and (out / "checkpoint.pt").is_file()
    assert sum(p.stat().st_size for p in shards) < 50_000_000  # fp16, word embeddings left out
    # resuming a finished run trains no further steps and exports the same reader again
    again = train_reader([tiny_drcd], encoder, out, TrainConfig(**CFG), device="cpu", resume=True)
    assert again["history"] == [] or again["history"][-1]["step"] == info["history"][-1]["step"]
    # a checkpoint of another job (here another learning rate) is not resumed into this one
    with pytest.raises(CheckpointError, match="differs in: config"):
        train_reader([tiny_drcd], encoder, out, TrainConfig(**{**CFG, "lr": 1e-3}), device="cpu", resume=True)
    # nor is an unreadable one, and it is left in place
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="unreadable"):
        train_reader([tiny_drcd], encoder, out, TrainConfig(**CFG), device="cpu", resume=True)
    assert (out / "checkpoint.pt").read_bytes() == b"not a checkpoint"
    reader = Reader(out, encoder.parent, runtime="torch").load()  # the shipped reader's ONNX graph is tested apart
    context = "跨河大橋於2021年動工,預計明年通車。"
    for span in reader.read("大橋何時動工?", [context]):
        assert 0 <= span.start < span.end <= len(context) and 0 <= span.score <= 1


def test_bundle_trains_without_the_packaged_model(tiny_drcd, tmp_path, settings):
    encoder = ensure_packaged_model(settings.model_cache_dir)
    bundle = make_bundle([tiny_drcd], encoder, packaged_weights_path(), tmp_path / "bundle", TrainConfig(**CFG))
    assert (bundle / "bundle.npz").stat().st_size < 20_000_000  # only the token rows the data uses
    info = run_bundle(bundle, tmp_path / "out", "cpu", {})
    assert info["validation"]["questions"] >= 1
    # the export plugs into the full-vocabulary model like the shipped reader does
    reader = Reader(tmp_path / "out", encoder.parent, runtime="torch").load()
    assert reader.read("年度預算是多少?", ["市議會通過了五千萬元的年度預算。"]) is not None


def test_training_continues_from_a_trained_reader_with_a_recipe(tiny_drcd, tmp_path, settings):
    from safetensors.torch import load_file

    from qa.config import READER_DIR

    encoder = ensure_packaged_model(settings.model_cache_dir)
    out = tmp_path / "reader"
    cfg = TrainConfig(**{**CFG, "lr": 0.0})  # no update: the export must be the starting reader itself
    info = train_reader([tiny_drcd], encoder, out, cfg, device="cpu", recipe={"code_switched": 2}, init_from=READER_DIR)
    chinese = len(split_questions([tiny_drcd], cfg.val_fraction, cfg.seed)[0])
    assert info["mix"]["questions"] == {"chinese": chinese, "translated": 0, "code_switched": 2}
    assert info["data"] == [tiny_drcd.name] and info["init_from"] == str(READER_DIR)
    shipped = {k: v for p in READER_DIR.glob("reader-*.safetensors") for k, v in load_file(str(p)).items()}
    exported = {k: v for p in out.glob("reader-*.safetensors") for k, v in load_file(str(p)).items()}
    assert exported.keys() == shipped.keys()
    assert all((exported[k] == shipped[k]).all() for k in shipped)
