"""Extractive reader: finds the answer span inside retrieved passages.

transformers 5 has no question-answering pipeline, so windowing, logit decoding and the
mapping from tokens back to characters live here. The model is multilingual-e5-small with a
span head trained by `qa train-reader`; the shipped artefact holds everything but the frozen
word embeddings, which come from the packaged embedding model.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"
READER_WEIGHTS = "reader-*.safetensors"  # fp16 shards written by qa.train.export.export_reader
READER_CONFIG = "reader.json"


@dataclass(frozen=True)
class Span:
    """A candidate answer: character offsets into text number `text_index` of the batch."""

    text_index: int
    start: int
    end: int
    score: float  # probability of this span within its window (start prob x end prob)


@dataclass
class Windows:
    """Tokenised (question, text) windows plus what is needed to map tokens back to text."""

    input_ids: np.ndarray  # (n, L) int64
    attention_mask: np.ndarray  # (n, L)
    offsets: np.ndarray  # (n, L, 2) char offsets into the text; -1 for question/special/pad tokens
    text_index: np.ndarray  # (n,) which input text each window came from


def make_windows(tokenizer, question: str, texts: list[str], max_length: int, stride: int) -> Windows:
    """Question + each text, split into overlapping windows of at most `max_length` tokens."""
    enc = tokenizer(
        [question] * len(texts),
        texts,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="longest",
        return_tensors="np",
    )
    offsets = np.asarray(enc["offset_mapping"]).astype(np.int64)
    n = offsets.shape[0]
    for i in range(n):
        seq_ids = enc.sequence_ids(i)
        for t, sid in enumerate(seq_ids):
            if sid != 1:
                offsets[i, t] = -1
    return Windows(
        input_ids=np.asarray(enc["input_ids"]).astype(np.int64),
        attention_mask=np.asarray(enc["attention_mask"]).astype(np.int64),
        offsets=offsets,
        text_index=np.asarray(enc["overflow_to_sample_mapping"]).astype(np.int64),
    )


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def decode_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    windows: Windows,
    max_answer_chars: int = 40,
    top_n: int = 20,
) -> list[Span]:
    """Best span of each window by start prob x end prob; the softmax includes token 0 ("no
    answer"), so a window the model thinks holds none gives its best span a tiny probability."""
    spans: list[Span] = []
    for w in range(start_logits.shape[0]):
        mask = windows.attention_mask[w].astype(bool)
        s_log = _log_softmax(np.where(mask, start_logits[w], -1e9))
        e_log = _log_softmax(np.where(mask, end_logits[w], -1e9))
        offsets = windows.offsets[w]
        in_text = offsets[:, 0] >= 0
        cand_s = [i for i in np.argsort(-s_log)[:top_n] if in_text[i]]
        cand_e = [j for j in np.argsort(-e_log)[:top_n] if in_text[j]]
        best: tuple[float, int, int] | None = None
        for i in cand_s:
            for j in cand_e:
                if j < i:
                    continue
                start, end = int(offsets[i, 0]), int(offsets[j, 1])
                if end - start > max_answer_chars or end <= start:
                    continue
                score = float(s_log[i] + e_log[j])
                if best is None or score > best[0]:
                    best = (score, start, end)
        if best is not None:
            spans.append(Span(int(windows.text_index[w]), best[1], best[2], float(np.exp(best[0]))))
    return spans


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop whitespace and dangling punctuation at a span's edges (tokens often carry them)."""
    from qa.text import is_punct as _is_punct

    openers, closers = "《「『（(【〈“‘", "》」』）)】〉”’"
    while start < end and (text[start].isspace() or (_is_punct(text[start]) and text[start] not in openers)):
        start += 1
    while end > start and (text[end - 1].isspace() or (_is_punct(text[end - 1]) and text[end - 1] not in closers)):
        end -= 1
    # keep quote/bracket pairs whole: an opener without its closer (or vice versa) is trimmed
    for o, c in zip(openers, closers):
        span = text[start:end]
        if span.startswith(o) and c not in span:
            start += 1
        span = text[start:end]
        if span.endswith(c) and o not in span:
            end -= 1
    return start, end


@dataclass(frozen=True)
class ReaderSettings:
    max_length: int = 256
    stride: int = 128
    max_answer_chars: int = 40


class Reader:
    """Loads the trained span reader once (`load()`), then reads batches of passages."""

    def __init__(self, artefact_dir: Path, encoder_dir: Path, threads: int = 1) -> None:
        self.artefact_dir = Path(artefact_dir)
        self.encoder_dir = Path(encoder_dir)
        self.threads = threads
        self.model = None
        self.tokenizer = None
        self.settings = ReaderSettings()
        self.info: dict = {}

    def load(self) -> Reader:
        if self.model is not None:
            return self
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        shards = sorted(self.artefact_dir.glob(READER_WEIGHTS))
        config_file = self.artefact_dir / READER_CONFIG
        if not shards or not config_file.is_file():
            raise FileNotFoundError(
                f"no trained reader in {self.artefact_dir} (expected {READER_WEIGHTS} and "
                f"{READER_CONFIG}); train one with `qa train-reader`"
            )
        self.info = json.loads(config_file.read_text())
        self.settings = ReaderSettings(**self.info.get("reader", {}))
        torch.set_num_threads(self.threads)
        model = build_qa_model(self.encoder_dir)
        state = {k: v.float() for shard in shards for k, v in load_file(str(shard)).items()}
        state[WORD_EMBEDDINGS] = load_word_embeddings(self.encoder_dir)
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if "pooler" not in k]
        if missing or unexpected:
            raise RuntimeError(f"reader weights do not match the model: missing {missing}, extra {unexpected}")
        self.model = model.eval()
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.encoder_dir))
        return self

    def read(self, question: str, texts: list[str]) -> list[Span]:
        """Best span per window over all texts, in one batched forward pass."""
        import torch

        self.load()
        if not texts:
            return []
        s = self.settings
        windows = make_windows(self.tokenizer, question, texts, s.max_length, s.stride)
        with torch.inference_mode():
            out = self.model(
                input_ids=torch.from_numpy(windows.input_ids),
                attention_mask=torch.from_numpy(windows.attention_mask),
            )
        spans = decode_spans(
            out.start_logits.float().numpy(), out.end_logits.float().numpy(), windows, s.max_answer_chars
        )
        trimmed = []
        for span in spans:
            start, end = trim_span(texts[span.text_index], span.start, span.end)
            if end > start:
                trimmed.append(Span(span.text_index, start, end, span.score))
        return trimmed


def build_qa_model(encoder_dir: Path, vocab_size: int | None = None):
    """An untrained BertForQuestionAnswering shaped like the encoder (attention dropout off:
    it nearly doubles step time and does not help this small model)."""
    from transformers import BertConfig, BertForQuestionAnswering

    config = BertConfig.from_pretrained(str(encoder_dir))
    config.attention_probs_dropout_prob = 0.0
    if vocab_size is not None:
        config.vocab_size = vocab_size
    return BertForQuestionAnswering(config)


def load_word_embeddings(encoder_dir: Path):
    from safetensors import safe_open

    with safe_open(str(Path(encoder_dir) / "model.safetensors"), framework="pt") as fh:
        return fh.get_tensor("embeddings.word_embeddings.weight").float()
