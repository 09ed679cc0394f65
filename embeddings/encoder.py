"""Text -> vectors. The packaged default model runs on ONNX Runtime (no torch when serving); any
other sentence-transformers name or path, or `runtime="torch"`, runs on sentence-transformers."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from embeddings.e5_package import ensure_packaged_model
from embeddings.e5_weights import PACKAGED_MODEL_NAME, PackagedModelError

log = logging.getLogger(__name__)


class Embedder:
    """Constructed with configuration only; `load()` brings the model into memory once."""

    def __init__(
        self,
        model: str = PACKAGED_MODEL_NAME,
        cache_dir: Path = Path("var/models"),
        threads: int = 1,
        query_prefix: str = "query: ",
        passage_prefix: str = "passage: ",
        batch_size: int = 16,
        runtime: str = "onnx",
        precision: str = "fp32",
    ) -> None:
        self.model_name = model
        self.cache_dir = Path(cache_dir)
        self.threads = threads
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        # ONNX needs an exported body; only the packaged model has a known offline recipe
        self.runtime = runtime if model == PACKAGED_MODEL_NAME else "torch"
        self.precision = precision
        self._model = None
        self._onnx = None

    @classmethod
    def from_settings(cls, settings) -> Embedder:
        """The one place an Embedder is configured from `qa.config.Settings` (duck-typed: this room
        does not import the domain)."""
        return cls(settings.embedding_model, settings.model_cache_dir, settings.threads,
                   settings.query_prefix, settings.passage_prefix, runtime=settings.runtime,
                   precision=settings.encoder_precision)

    @property
    def model_path(self) -> str:
        """For sentence-transformers: the packaged model's built folder, or whatever name/path the user configured."""
        if self.model_name == PACKAGED_MODEL_NAME:
            return str(ensure_packaged_model(self.cache_dir))
        return self.model_name

    def load(self) -> Embedder:
        if self.runtime == "onnx":
            if self._onnx is None:
                from embeddings.onnx_encoder import OnnxEncoder

                self._onnx = OnnxEncoder(self.cache_dir, self.threads, self.precision).load()
            return self
        if self._model is None:
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise PackagedModelError(f"the model {self.model_name!r} on torch needs sentence-transformers and "
                                         "torch: pip install 'cited-qa[build]' (the packaged model on ONNX "
                                         "Runtime needs neither)") from exc
            torch.set_num_threads(self.threads)
            self._model = SentenceTransformer(self.model_path, device="cpu")
        return self

    @property
    def dimension(self) -> int:
        self.load()
        if self._onnx is not None:
            return self._onnx.table.dimension
        return int(self._model.get_sentence_embedding_dimension())

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        texts = [self.passage_prefix + t for t in texts]
        if self.load()._onnx is not None:
            return self._onnx.encode(texts, progress)
        return self._encode(texts, progress)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """One forward pass through the model's modules: for a single question, encode()'s
        batching and conversion overhead was ~10% of search latency. Same vectors."""
        if self.load()._onnx is not None:
            return self._onnx.embed(self._onnx.token_ids([self.query_prefix + t for t in texts]))
        import torch

        with torch.inference_mode():
            features = self._model.tokenize([self.query_prefix + t for t in texts])
            vectors = self._model(features)["sentence_embedding"]
            vectors = torch.nn.functional.normalize(vectors, dim=-1)
        return np.ascontiguousarray(vectors.float().numpy(), dtype=np.float32)

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        self.load()
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
