"""Reader windows assembled by hand equal what transformers' tokenizer produces for training."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.e5_package import ensure_packaged_model
from qa.corpus import BUNDLED_CORPUS, load_corpus
from qa.windows import MAX_QUESTION_TOKENS, make_windows, one_window_span

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


@pytest.mark.parametrize("question", ["聯合國提供了多少糧食援助?", "How much food aid was delivered in 2022?"])
def test_a_one_window_cut_is_read_in_one_pass_around_its_centre(hf_tokenizer, question):
    text = "".join(p.text for p in load_corpus(BUNDLED_CORPUS)[110:116])  # ~1,500 characters: several windows
    assert make_windows(hf_tokenizer, question, [text], 256, 128).input_ids.shape[0] > 2
    for centre in (0, len(text) // 2, len(text) - 1):
        start, end = one_window_span(hf_tokenizer, question, text, centre, 256)
        assert start <= centre < end and end - start > 200  # most of a window's ~230 tokens, not a sliver
        assert make_windows(hf_tokenizer, question, [text[start:end]], 256, 128).input_ids.shape[0] == 1
    short = load_corpus(BUNDLED_CORPUS)[5].text
    assert one_window_span(hf_tokenizer, question, short, 10, 256) == (0, len(short))
