"""All settings in one place: environment variables with the prefix QA_ (e.g. QA_TOP_K=8)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from embeddings.e5_weights import PACKAGED_MODEL_NAME
from qa.documents.load import BUNDLED_CORPUS

READER_DIR = Path(__file__).resolve().parent / "bundled" / "reader"
RATE_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


def parse_rate(text: str) -> tuple[int, float]:
    """A rate limit such as "60/minute" as (requests, seconds); ValueError when it is not COUNT/PERIOD."""
    count, _, period = text.strip().partition("/")
    if not count.strip().isdigit() or int(count) < 1 or period.strip() not in RATE_PERIODS:
        raise ValueError(f"{text!r} is not a rate like 60/minute (COUNT/{'|'.join(RATE_PERIODS)})")
    return int(count), RATE_PERIODS[period.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    home: Path = Field(Path.home() / ".cache" / "qa-service", description="where model caches and indexes live")
    corpus: Path = Field(BUNDLED_CORPUS, description="the document `qa index` indexes when given no path")
    index_dir: Path | None = Field(None, description="index folder; default HOME/index")
    embedding_model: str = Field(
        PACKAGED_MODEL_NAME,
        description="'multilingual-e5-small' (packaged, offline) or any sentence-transformers name/path",
    )
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    index_kind: str = Field("flat", description="'flat' (exact) or 'hnsw' (approximate, for large corpora)")
    # where passages and vectors live (docs/SCALE.md): index files on this machine, or a Milvus collection
    vector_store: Literal["faiss", "milvus"] = Field("faiss", description="'faiss' (index folder) or 'milvus'")
    milvus_uri: str = Field("", description="a file path ending .db (embedded milvus-lite) or http://host:19530; "
                            "default HOME/milvus.db")
    milvus_token: str = Field("", description="Milvus credentials ('user:password' or an API key) for a server")
    milvus_collection: str | None = Field(None, description="collection name prefix; default the corpus file's stem")
    # unit scores computed here from cached vectors: milvus-lite costs ~30 us per row returned (docs/SCALE.md)
    milvus_vector_cache: int = Field(20000, ge=0, description="passages whose unit vectors a replica keeps "
                                     "(0: Milvus scores every request's units)")
    reader_dir: Path = READER_DIR
    runtime: Literal["onnx", "torch"] = Field(
        "onnx", description="inference runtime: ONNX Runtime (serving needs no torch) or torch (the reference)"
    )
    encoder_precision: Literal["fp32", "int8"] = Field("fp32", description="query/passage encoder weights (ONNX)")
    # int8 passage vectors with fp32 queries: DRCD dev indexed in 2:01 instead of 3:56, its R@1 0.966 vs
    # 0.967, but dev2's English R@1 0.817 -> 0.783 (README "Indexing a large corpus")
    index_precision: Literal["fp32", "int8"] | None = Field(None, description="encoder weights while indexing "
                                                            "(default: encoder_precision)")
    # pooled: a many-sentence passage is not encoded a second time as a whole. DRCD dev indexed in 1:42 instead of
    # 3:46 with R@1 0.965 vs 0.967; dev2 end to end F1 61.8 vs 62.0, citation 88.3% vs 86.7% (README "Indexing")
    passage_vectors: Literal["pooled", "encoded"] = Field(
        "pooled", description="a many-sentence passage's vector: pooled from its sentences' vectors, or encoded whole")
    # int8 (dynamic, per channel) measured F1 -0.5 but citation -3.7 points on the dev set: fp32 by default
    reader_precision: Literal["fp32", "int8"] = Field("fp32", description="reader weights (ONNX)")
    # 1 torch thread measured faster than 2 on 2-core machines for both encoding and reading (make bench)
    threads: int = Field(1, ge=1, le=64)
    index_threads: int = Field(os.cpu_count() or 1, ge=1, le=64, description="threads for `qa index` (default: all)")
    top_k: int = Field(5, ge=1, le=50, description="passages retrieved when a request does not say")
    max_top_k: int = Field(50, ge=1, le=200, description="the most passages one request may ask for")
    # fusion weights, tuned on data/eval/un-report-dev.jsonl (qa eval --retrieval-only): dense vs keyword z-scores,
    # for questions with and without Chinese characters, and passage vs best-sentence similarity
    dense_weight: float = Field(0.6, ge=0.0, le=1.0)
    non_cjk_dense_weight: float = Field(0.8, ge=0.0, le=1.0)
    sentence_weight: float = Field(0.7, ge=0.0, le=1.0)
    candidates: int = Field(100, ge=1, description="candidates each retriever contributes before fusion")
    read_k: int = Field(3, ge=1, le=50, description="top passages the reader reads (of the top_k retrieved)")
    # dev2 (tuned here): 1 -> 2 lifted F1 73.9 -> 75.3, citation 89.2% -> 91.7%; untouched held-out DRCD 79.0 -> 79.1,
    # half B in English 54.4 -> 54.3; ~11% fewer passages read for English questions (README)
    passage_rank_weight: float = Field(2.0, ge=0.0, le=10.0, description="answers across passages rank by span "
                                       "probability x softmax(this x passage retrieval score); higher trusts "
                                       "retrieval more")
    # held-out DRCD (bench.drcd_heldout), nothing tuned on half B: whole passages F1 82.0 p50 448 ms; the window
    # nearest the best sentence, the rest when unsure: F1 81.7, p50 160 ms (README)
    read_window: bool = Field(True, description="read a passage longer than one reader window (~290 Chinese "
                              "characters) at its window nearest the sentence closest to the question first")
    read_window_confidence: float = Field(0.5, ge=0.0, le=1.0, description="read the passage's other windows when "
                                          "no span in its window is this likely (0: never)")
    fold_question_script: bool = Field(True, description="read a question in the script of each passage")
    # dev2's 80 English questions (nothing tuned on them): F1 36.1 -> 43.5, citation 66.7 -> 76.7 (README)
    bridge_english: bool = Field(True, description="append a passage's own words for an English question's "
                                 "keywords (CC-CEDICT glosses) before reading it")
    # DRCD half B asked in English (175, tuned nothing): R@1 0.486 -> 0.571, R@5 0.731 -> 0.817 (README)
    expand_english: bool = Field(True, description="search an English question's keywords also by their "
                                 "CC-CEDICT Chinese words")
    # fitted on 1,250 hand-translated training questions (qa train-query-map); chosen on dev2's and held-out half B's
    # English questions (model card, "English query map")
    map_english_queries: bool = Field(True, description="map a question's vector through the bundled English query "
                                      "map when it has no Chinese characters (packaged embedding model only)")
    require_question_numbers: bool = Field(True, description="do not read a passage that lacks a number the "
                                           "question names (a year, a count): it cannot answer it")
    require_question_names: bool = Field(True, description="do not read a passage that lacks a place or body a "
                                         "Chinese question names (CC-CEDICT's proper nouns, either script; one in a "
                                         "quarter of the corpus's passages is its subject and not asked of them)")
    check_answer_kind: bool = Field(True, description="pass over spans of another kind than the question asks for "
                                    "(a month for a day, an amount for a rate, a count of incidents for people; "
                                    "qa/language/answer_kind.py) and read the next likely one")
    early_stop: bool = Field(True, description="stop reading once no unread passage could outrank the best answer")
    calibrate_confidence: bool = Field(True, description="score an answer with the reader folder's calibration.json "
                                       "(its span probability, its passage's retrieval score and an English "
                                       "question's keyword coverage together, qa/reading/confidence.py), not the "
                                       "span's probability alone")
    # the top answer's confidence below which it is withheld and `no_answer` reported. Unset: the thresholds fitted for
    # the reader and shipped in its folder (qa/bundled/reader/calibration.json, `python -m bench.confidence --write`)
    no_answer_threshold: float | None = Field(None, ge=0.0, le=1.0, description="for questions with Chinese "
                                              "characters; default: the reader's calibration.json")
    non_cjk_no_answer_threshold: float | None = Field(None, ge=0.0, le=1.0, description="for questions without "
                                                      "Chinese characters; default: the reader's calibration.json")
    max_answers: int = Field(3, ge=1, le=20)
    # documents (README "Your own documents"): what one file may cost to read, and how many one question may name
    max_document_mb: float = Field(100.0, gt=0, description="largest file `qa index` reads or POST /v1/documents "
                                   "accepts, in MB")
    max_document_pages: int = Field(2000, ge=1, description="most pages of a PDF that is read")
    upload_timeout_s: float = Field(300.0, gt=0, description="time an upload to POST /v1/documents has to arrive")
    max_question_documents: int = Field(100, ge=1, description="most documents one request may restrict itself to")
    answer_cache: int = Field(256, ge=0, description="answers kept for repeated questions (0: no cache)")
    max_question_chars: int = Field(1000, ge=1)
    # a conversation sent with a question (history in /v1/ask, messages in /v1/chat/completions, `qa chat`)
    max_history_turns: int = Field(20, ge=0, le=200, description="most earlier messages a request may send "
                                   "(user and assistant); only the recent ones resolve a follow-up")
    max_history_chars: int = Field(4000, ge=1, description="longest earlier message accepted (an assistant reply "
                                   "with its sources is longer than a question)")
    # a follow-up is retrieved with its completed form and as asked, mixed (qa/retrieval/followup.py); chosen on the
    # tuning part of data/eval/un-report-conversations.jsonl (README "Follow-up questions")
    followup_completed_weight: float = Field(0.7, ge=0.0, le=1.0, description="weight of the completed question's "
                                             "retrieval score against the follow-up's as asked")
    followup_prior: float = Field(1.0, ge=0.0, le=10.0, description="added to the retrieval score (z units) of the "
                                  "passage the previous answer came from")
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:8000", "http://127.0.0.1:8000"])
    # the edge: what one client may send and ask, and how much work runs at once (docs/DEPLOYMENT.md)
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="largest request body; a bigger one is a 413 unread")
    body_timeout_s: float = Field(10.0, gt=0, description="time a client has to send its request body (408 after)")
    keep_alive_s: int = Field(5, ge=1, description="idle keep-alive connections are closed after this (uvicorn)")
    max_header_bytes: int = Field(16 * 1024, ge=1024, description="largest request head uvicorn buffers (h11)")
    max_connections: int = Field(200, ge=1, description="connections uvicorn holds before answering 503")
    trusted_proxies: str = Field("127.0.0.1", description="proxies whose X-Forwarded-For names the client")
    # measured on the 2-core box (20 clients, 15 s): 2 slots answered 16.5/s, p95 0.44 s; 1 slot 8.8/s, p95 0.65 s;
    # a queue of 4 instead of 2 gave the same throughput and p95 0.68 s (docs/DEPLOYMENT.md)
    max_inflight: int = Field(2, ge=1, description="answers computed at once by the model-running routes")
    max_queue: int = Field(2, ge=0, description="requests waiting for a free slot; one more is a 503 at once")
    queue_timeout_s: float = Field(1.0, gt=0, description="longest wait for a slot before a 503")
    api_keys: list[str] = Field(default_factory=list, description="sha256 hex digests of the API keys; [] = no keys")
    admin_keys: list[str] = Field(default_factory=list, description="sha256 hex digests of the admin keys")
    rate_limit_ask: str | None = Field("60/minute", description="per client, on the model-running routes; '' = off")
    rate_limit_feedback: str | None = Field("10/minute", description="per client, on POST /v1/feedback; '' = off")
    feedback_quota: int = Field(100, ge=0, description="feedback one client may post in 24 hours (0: no quota)")
    chat_model_id: str = Field("cited-qa", description="the model id /v1/models lists and /v1/chat/completions accepts")
    # the /demo/deep-chat page loads this script; pinned, so a new deep-chat release cannot change the page
    deep_chat_url: str = "https://unpkg.com/deep-chat@2.4.2/dist/deepChat.bundle.js"

    @field_validator("api_keys", "admin_keys")
    @classmethod
    def key_digests(cls, value: list[str]) -> list[str]:
        """Keys are kept hashed at rest: a raw key here is a mistake, not a key."""
        digests = [v.strip().lower() for v in value]
        for d in digests:
            if len(d) != 64 or any(c not in "0123456789abcdef" for c in d):
                raise ValueError("holds sha256 hex digests of keys, not keys: make one with `qa keys new`")
        return digests

    @field_validator("rate_limit_ask", "rate_limit_feedback")
    @classmethod
    def rate(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in ("", "0", "off", "none"):
            return None
        parse_rate(value)
        return value.strip()

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.home / "index"

    @property
    def model_cache_dir(self) -> Path:
        return self.home / "models"
