"""The ONNX Runtime path gives the torch path's numbers: same vectors, same reader logits."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoder import Embedder
from embeddings.word_table import packaged_word_table
from qa.reading.reader import Reader

pytestmark = pytest.mark.slow  # exports models into the cache on a fresh machine

TEXTS = ["2022年人道主義應急計劃實際需要多少資金?", "How many people did the floods in Pakistan affect?", "短"]


def test_word_table_rows_are_the_packaged_embeddings(settings):
    from safetensors import safe_open

    from embeddings.e5_package import ensure_packaged_model

    with safe_open(str(ensure_packaged_model(settings.model_cache_dir) / "model.safetensors"), framework="np") as fh:
        full = fh.get_tensor("embeddings.word_embeddings.weight")
    ids = np.array([[0, 5, 250000], [17, 2, 1]])
    assert np.array_equal(packaged_word_table().lookup(ids), full[ids])


def test_onnx_encoder_matches_sentence_transformers(settings):
    onnx = Embedder.from_settings(settings).load()
    torch = Embedder.from_settings(settings.model_copy(update={"runtime": "torch"})).load()
    assert onnx.runtime == "onnx" and torch.runtime == "torch"
    for a, b in [(onnx.encode_queries(TEXTS), torch.encode_queries(TEXTS)),
                 (onnx.encode_passages(TEXTS), torch.encode_passages(TEXTS))]:
        assert a.shape == b.shape == (3, 384)
        assert np.allclose((a * b).sum(axis=1), 1.0, atol=1e-4)


def test_onnx_reader_matches_torch(pipeline):
    onnx = pipeline.reader
    torch = Reader(onnx.artefact_dir, onnx.cache_dir, runtime="torch").load()
    passage = "2022年,人道主義應急計劃需要516億美元,實際籌得300億美元。"
    question = "2022年人道主義應急計劃實際籌得多少資金?"
    assert onnx.runtime == "onnx"
    (a,), (b,) = onnx.read(question, [passage]), torch.read(question, [passage])
    assert (a.start, a.end) == (b.start, b.end) and a.score == pytest.approx(b.score, abs=1e-4)
    from qa.reading.windows import make_windows

    windows = make_windows(onnx.tokenizer, question, [passage], 256, 128)
    for a, b in zip(onnx.logits(windows), torch.logits(windows)):
        assert np.abs(a - b).max() < 1e-4  # the same graph, written from numpy (embeddings/onnx_graph.py)


def test_other_models_use_sentence_transformers(settings):
    assert Embedder.from_settings(settings.model_copy(update={"embedding_model": "some/model"})).runtime == "torch"


def test_a_first_build_needs_neither_torch_nor_transformers(pipeline, tmp_path):
    """The graph is built from numpy weights in a child process: the process that serves imports neither torch nor
    transformers, even when it built its models at start-up, and reads as the served reader reads."""
    import subprocess
    import sys

    reader = pipeline.reader
    question, passage = "大橋哪一年動工?", "跨河大橋於2021年動工,2023年通車。"
    (span,) = reader.read(question, [passage])
    script = (
        "import sys; from pathlib import Path; from qa.reading.reader import Reader; "
        f"r = Reader(Path({str(reader.artefact_dir)!r}), Path({str(tmp_path)!r})).load(); "
        f"s = r.read({question!r}, [{passage!r}])[0]; "
        "print(s.start, s.end, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(span.start), str(span.end), "False", "False"]
    built = [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")]
    assert built == [reader.model.path.parent.name]  # no temporary folder left


def test_a_failed_export_is_named_and_leaves_nothing(tmp_path):
    from embeddings.onnx_models import OnnxModelError, cached_export

    missing = tmp_path / "no-reader"
    failed = r"building reader-x for ONNX Runtime failed: FileNotFoundError: no trained reader"
    with pytest.raises(OnnxModelError, match=failed):
        cached_export(tmp_path / "reader-x", {}, "qa.reading.reader:build_reader", [missing], "fp32")
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []
