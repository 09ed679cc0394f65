"""All settings in one place: environment variables with the prefix QA_ (e.g. QA_TOP_K=8)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from embeddings.e5_package import PACKAGED_MODEL_NAME
from qa.corpus import BUNDLED_CORPUS

READER_DIR = Path(__file__).resolve().parent.parent / "data" / "reader"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    home: Path = Field(Path.home() / ".cache" / "qa-service", description="where model caches and indexes live")
    corpus: Path = Field(BUNDLED_CORPUS, description="document to index (report text, SQuAD JSON or JSONL)")
    index_dir: Path | None = Field(None, description="index folder; default HOME/index")
    embedding_model: str = Field(
        PACKAGED_MODEL_NAME,
        description="'multilingual-e5-small' (packaged, offline) or any sentence-transformers name/path",
    )
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    index_kind: str = Field("flat", description="'flat' (exact) or 'hnsw' (approximate, for large corpora)")
    reader_dir: Path = READER_DIR
    runtime: Literal["onnx", "torch"] = Field(
        "onnx", description="inference runtime: ONNX Runtime (serving needs no torch) or torch (the reference)"
    )
    encoder_precision: Literal["fp32", "int8"] = Field("fp32", description="query/passage encoder weights (ONNX)")
    # int8 (dynamic, per channel) measured F1 -0.5 but citation -3.7 points on the dev set: fp32 by default
    reader_precision: Literal["fp32", "int8"] = Field("fp32", description="reader weights (ONNX)")
    # 1 torch thread measured faster than 2 on 2-core machines for both encoding and reading (make bench)
    threads: int = Field(1, ge=1, le=64)
    top_k: int = Field(5, ge=1, le=50, description="passages retrieved when a request does not say")
    max_top_k: int = Field(50, ge=1, le=200, description="the most passages one request may ask for")
    # fusion weights, tuned on the dev set (bench/tune_retrieval.py): dense vs keyword z-scores,
    # for questions with and without Chinese characters, and passage vs best-sentence similarity
    dense_weight: float = Field(0.6, ge=0.0, le=1.0)
    non_cjk_dense_weight: float = Field(0.8, ge=0.0, le=1.0)
    sentence_weight: float = Field(0.7, ge=0.0, le=1.0)
    candidates: int = Field(100, ge=1, description="candidates each retriever contributes before fusion")
    read_k: int = Field(3, ge=1, le=50, description="top passages the reader reads (of the top_k retrieved)")
    early_stop: bool = Field(True, description="stop reading once no unread passage could outrank the best answer")
    # the top answer's span probability below which it is withheld and `no_answer` reported.
    # The trained reader puts nearly all probability on "no answer" when it finds none, so the
    # useful threshold is small: 0.001 gave overall F1 0.74 and 4/6 no-answers on the dev set.
    no_answer_threshold: float = Field(0.001, ge=0.0, le=1.0)
    max_answers: int = Field(3, ge=1, le=20)
    answer_cache: int = Field(256, ge=0, description="answers kept for repeated questions (0: no cache)")
    max_question_chars: int = Field(1000, ge=1)
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:8000", "http://127.0.0.1:8000"])

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.home / "index"

    @property
    def model_cache_dir(self) -> Path:
        return self.home / "models"
