from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings.e5_package import ensure_packaged_model, is_valid_build
from embeddings.e5_weights import PackagedModelError, dequantize_q4, packaged_weights_path, read_e5s1
from qa.config import Settings


def test_q4_block_layout():
    # scale 0.5; byte j holds value j (low nibble) and value j+16 (high nibble), offset by 8
    block = np.zeros((1, 18), dtype=np.uint8)
    block[0, :2] = np.frombuffer(np.float16(0.5).tobytes(), dtype=np.uint8)
    block[0, 2] = 0x9F  # low 15 -> (15-8)*0.5 = 3.5 ; high 9 -> 0.5
    values = dequantize_q4(block)
    assert values[0] == 3.5 and values[16] == 0.5 and values[1] == -4.0


def test_packaged_file_header_and_tensors():
    header, tensors = read_e5s1(packaged_weights_path())
    # the embedding matrix has 250,037 rows (e5's config), a few more than the tokenizer's 250,002 ids
    assert (header.hidden, header.layers, header.heads, header.vocab) == (384, 12, 12, 250037)
    assert tensors["emb.word"].quantized and tensors["emb.word"].count == header.vocab * 384
    assert not tensors["emb.ln.w"].quantized


@pytest.mark.slow
def test_build_is_cached_and_rebuilt_when_corrupt(tmp_path):
    folder = ensure_packaged_model(Settings().model_cache_dir)
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    assert json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"]["query"] == "query: "
    # a partial or corrupt copy is detected and a fresh build replaces it
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    source = json.loads((folder / "build.json").read_text())["source"]
    assert is_valid_build(copy, source)
    (copy / "tokenizer.json").rename(tmp_path / "tokenizer.json")
    assert not is_valid_build(copy, source)
    (tmp_path / "tokenizer.json").rename(copy / "tokenizer.json")
    (copy / "1_Pooling" / "config.json").write_text("{trunc")
    assert not is_valid_build(copy, source)
    (copy / "1_Pooling" / "config.json").write_bytes((folder / "1_Pooling" / "config.json").read_bytes())
    assert is_valid_build(copy, source)
    with open(copy / "model.safetensors", "r+b") as fh:
        fh.seek(1000)
        fh.write(b"garbage")
    assert not is_valid_build(copy, source)
    rebuilt = ensure_packaged_model(tmp_path)
    assert rebuilt == copy and is_valid_build(rebuilt, source)


def test_an_unwritable_cache_is_one_line():
    with pytest.raises(PackagedModelError, match=r"^cannot write the model cache /proc/x/models: .*QA_HOME"):
        ensure_packaged_model(Path("/proc/x/models"))


@pytest.mark.slow
def test_sentence_transformer_embeds_across_scripts_and_languages():
    from embeddings.encoder import Embedder

    embedder = Embedder.from_settings(Settings()).load()
    q = embedder.encode_queries(["聯合國籌集了多少人道主義援助?", "how much humanitarian aid was raised?"])
    p = embedder.encode_passages(["我們籌集了創紀錄的300億美元人道主義援助。", "2023年7月7日於紐約"])
    assert q.shape == (2, 384) and np.allclose(np.linalg.norm(q, axis=1), 1, atol=1e-4)
    sims = q @ p.T
    assert (sims[:, 0] > sims[:, 1]).all()
