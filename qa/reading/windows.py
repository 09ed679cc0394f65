"""(question, passage) token windows for the reader, assembled by hand from one shared tokenizer.

The layout is the XLM-R pair template the reader was trained on, `<s> question </s></s> passage </s>`,
with long passages cut into windows of `max_length` tokens overlapping by `stride` (what
transformers' `truncation="only_second", stride=...` produces; a test checks they are equal).
Building windows here rather than through the tokenizer's truncation keeps the tokenizer
stateless (shareable across threads) and lets a long question be cut instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOS, EOS, PAD = 0, 2, 1  # XLM-R's <s>, </s>, <pad>
MAX_QUESTION_TOKENS = 64  # longer questions keep their first 64 tokens: the passage side is what is read


@dataclass
class Windows:
    """Tokenised (question, text) windows plus what is needed to map tokens back to text."""

    input_ids: np.ndarray  # (n, L) int64
    attention_mask: np.ndarray  # (n, L)
    offsets: np.ndarray  # (n, L, 2) char offsets into the text; -1 for question/special/pad tokens
    text_index: np.ndarray  # (n,) which input text each window came from

    @property
    def tokens(self) -> int:
        """Tokens the model reads (padding included): the cost of reading these windows."""
        return int(self.input_ids.size)

    def subset(self, rows: list[int]) -> Windows:
        """These windows only, padded to the longest of them."""
        width = int(self.attention_mask[rows].sum(axis=1).max())
        return Windows(self.input_ids[rows, :width], self.attention_mask[rows, :width], self.offsets[rows, :width],
                       self.text_index[rows])

    def nearest(self, text_index: int, char: int) -> int:
        """The window of text `text_index` whose middle is nearest character `char` of it."""
        def distance(row: int) -> float:
            offsets = self.offsets[row][self.offsets[row, :, 0] >= 0]
            return abs((offsets[0, 0] + offsets[-1, 1]) / 2 - char)

        return int(min(np.flatnonzero(self.text_index == text_index), key=distance))


def _backend(tokenizer):
    """A stateless `tokenizers.Tokenizer`: itself, or a transformers fast tokenizer's backend with the
    truncation/padding its last call left behind cleared (transformers sets them again per call)."""
    tok = getattr(tokenizer, "backend_tokenizer", tokenizer)
    if tok.truncation is not None or tok.padding is not None:
        tok.no_truncation()
        tok.no_padding()
    return tok


def make_windows(
    tokenizer, question: str, texts: list[str], max_length: int, stride: int,
    max_question_tokens: int = MAX_QUESTION_TOKENS,
) -> Windows:
    """Question + each text, split into overlapping windows of at most `max_length` tokens."""
    tok = _backend(tokenizer)
    q_ids = tok.encode(question, add_special_tokens=False).ids[:max_question_tokens]
    head = [BOS, *q_ids, EOS, EOS]
    budget = max_length - len(head) - 1
    rows: list[tuple[list[int], list[tuple[int, int]], int]] = []
    for index, encoding in enumerate(tok.encode_batch(texts, add_special_tokens=False)):
        ids, offs = encoding.ids, encoding.offsets
        start = 0
        while True:
            end = min(start + budget, len(ids))
            rows.append(([*head, *ids[start:end], EOS], offs[start:end], index))
            if end >= len(ids):
                break
            start = end - stride
    width = max(len(r[0]) for r in rows) if rows else 0
    n = len(rows)
    input_ids = np.full((n, width), PAD, dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    offsets = np.full((n, width, 2), -1, dtype=np.int64)
    for i, (ids, offs, _) in enumerate(rows):
        input_ids[i, : len(ids)] = ids
        mask[i, : len(ids)] = 1
        if offs:
            offsets[i, len(head) : len(head) + len(offs)] = offs
    return Windows(input_ids, mask, offsets, np.asarray([r[2] for r in rows], dtype=np.int64))
