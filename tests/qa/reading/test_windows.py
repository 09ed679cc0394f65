"""Reader windows assembled by hand equal what transformers' tokenizer produces for training."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.e5_package import ensure_packaged_model
from qa.documents.load import BUNDLED_CORPUS, load_corpus
from qa.reading.windows import MAX_QUESTION_TOKENS, make_windows

pytestmark = pytest.mark.slow  # builds the packaged model folder on a fresh machine


@pytest.fixture(scope="module")
def hf_tokenizer(settings):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(ensure_packaged_model(settings.model_cache_dir)))


@pytest.mark.parametrize("question", ["2022年人道主義應急計劃實際需要多少資金?", "How many people were reached?"])
def test_windows_match_the_training_tokenizer(hf_tokenizer, question):
    passages = load_corpus(BUNDLED_CORPUS)
    texts = [passages[118].text * 3, passages[5].text, "短"]  # one text long enough for four windows
    enc = hf_tokenizer([question] * len(texts), texts, truncation="only_second", max_length=256, stride=128,
                       return_overflowing_tokens=True, return_offsets_mapping=True, padding="longest",
                       return_tensors="np")
    windows = make_windows(hf_tokenizer, question, texts, 256, 128)
    assert windows.input_ids.shape == enc["input_ids"].shape and windows.input_ids.shape[0] == 6
    assert (windows.input_ids == enc["input_ids"]).all()
    assert (windows.attention_mask == enc["attention_mask"]).all()
    assert (windows.text_index == enc["overflow_to_sample_mapping"]).all()
    offsets = np.asarray(enc["offset_mapping"]).copy()
    for i in range(offsets.shape[0]):
        offsets[i, [t for t, sid in enumerate(enc.sequence_ids(i)) if sid != 1]] = -1
    assert (windows.offsets == offsets).all()
    assert windows.tokens == windows.input_ids.size


def test_a_long_question_is_cut_not_fatal(hf_tokenizer):
    windows = make_windows(hf_tokenizer, "問" * 1000, ["大橋於2021年動工。"], 256, 128)
    assert windows.input_ids.shape[0] == 1 and windows.input_ids.shape[1] <= 256
    assert (windows.offsets[0, :, 0] >= 0).sum() > 0  # the passage is still read
    assert windows.input_ids.shape[1] <= MAX_QUESTION_TOKENS + 4 + 20


def test_the_window_nearest_a_character_covers_it_and_a_subset_is_repadded(hf_tokenizer):
    passages = load_corpus(BUNDLED_CORPUS)
    long = "".join(p.text for p in passages[110:116])  # ~1,500 characters: several windows
    windows = make_windows(hf_tokenizer, "聯合國提供了多少糧食援助?", [passages[5].text, long], 256, 128)
    rows = np.flatnonzero(windows.text_index == 1)
    assert len(rows) > 2 and windows.nearest(0, 10) == 0
    for char in (0, len(long) // 3, len(long) // 2, len(long) - 1):
        row = windows.nearest(1, char)
        covered = windows.offsets[row][windows.offsets[row, :, 0] >= 0]
        assert covered[0, 0] <= char < covered[-1, 1]
        assert windows.text_index[row] == 1
    subset = windows.subset([0, int(rows[-1])])
    assert subset.text_index.tolist() == [0, 1]
    assert subset.input_ids.shape[1] == subset.attention_mask.sum(axis=1).max() < windows.input_ids.shape[1]

