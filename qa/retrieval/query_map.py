"""A linear map on the query vector of a question without Chinese characters, fitted so that an English
question's vector lands nearer the Chinese passage that answers it (`qa train-query-map`, qa/train/query_map.py).

multilingual-e5-small puts an English question and its Chinese paragraph further apart than a Chinese question
and the same paragraph: dense Recall@1 0.38 against 0.96 for the same 1,250 questions asked both ways. The map is
fitted on the packaged model's vectors only, so it is used with that model alone; the passage vectors (the
index) stay as they are, and applying it costs one 384x384 product per English question.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

BUNDLED_QUERY_MAP = Path(__file__).resolve().parents[1] / "bundled" / "english-query-map.npz"


class QueryMapError(ValueError):
    """The map file is missing or is not a query map; the message names it and the way around it."""


class QueryMap:
    def __init__(self, matrix: np.ndarray, model: str, info: dict | None = None) -> None:
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.model = model
        self.info = info or {}

    @classmethod
    def read(cls, path: Path = BUNDLED_QUERY_MAP) -> QueryMap:
        try:
            with np.load(path, allow_pickle=False) as data:
                matrix, meta = data["matrix"], json.loads(str(data["meta"]))
        except (OSError, KeyError, ValueError) as exc:  # numpy's own words ("pickled data") mislead here
            raise QueryMapError(f"{path}: not a query map ({type(exc).__name__}); reinstall cited-qa, or set "
                                "QA_MAP_ENGLISH_QUERIES=false to search English questions without it") from exc
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise QueryMapError(f"{path}: expected a square matrix, found shape {matrix.shape}")
        return cls(matrix, str(meta.get("model", "")), meta)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({**self.info, "model": self.model}, ensure_ascii=False)
        with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a name without it
            np.savez_compressed(f, matrix=self.matrix.astype(np.float16), meta=np.asarray(meta))

    def fits(self, model: str, dimension: int) -> bool:
        return self.model == model and self.matrix.shape[0] == dimension

    def __call__(self, query: np.ndarray) -> np.ndarray:
        mapped = self.matrix @ query
        return (mapped / max(float(np.linalg.norm(mapped)), 1e-12)).astype(np.float32)


def query_map_for(model: str, dimension: int, path: Path = BUNDLED_QUERY_MAP) -> QueryMap | None:
    """The bundled map when it was fitted for this embedding model, else None (said once in the log)."""
    found = QueryMap.read(path)
    if not found.fits(model, dimension):
        log.info("English query map not used: fitted for %s (%d dimensions), the embedding model is %s (%d)",
                 found.model, found.matrix.shape[0], model, dimension)
        return None
    return found
