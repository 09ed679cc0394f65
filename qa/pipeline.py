"""The one object every interface talks to: retrieve, read, answer with citations."""

from __future__ import annotations

import logging
import time

import numpy as np

from embeddings.e5_package import ensure_packaged_model
from embeddings.encoder import Embedder
from qa.config import Settings
from qa.metrics import normalize_answer
from qa.reader import Reader
from qa.retriever import HybridRetriever
from qa.store import LoadedIndex, load_index
from qa.text import clean_question
from qa.types import Answer, AskResult, Hit, Passage

log = logging.getLogger(__name__)
CONTEXT_CHARS = 60  # characters of passage shown on each side of an answer


class QuestionError(ValueError):
    """The question can't be asked as given (empty, too long); the message says why."""


class Pipeline:
    """Holds the heavy parts (embedder, index, reader); `load()` brings them up once."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        s = self.settings
        self.embedder = Embedder(s.embedding_model, s.model_cache_dir, s.threads, s.query_prefix, s.passage_prefix)
        self.reader = Reader(s.reader_dir, s.model_cache_dir, s.threads)
        self.index: LoadedIndex | None = None
        self.retriever: HybridRetriever | None = None

    def load(self, with_reader: bool = True) -> Pipeline:
        s = self.settings
        if self.index is None:
            self.index = load_index(s.resolved_index_dir, self.embedder, s.corpus)
            self.embedder.load()
            self.retriever = HybridRetriever(
                self.index, self.embedder, s.dense_weight, s.sentence_weight, s.non_cjk_dense_weight, s.candidates
            )
        if with_reader and self.reader.model is None:
            # the reader was trained on the packaged encoder: its tokenizer and frozen word
            # embeddings come from there whatever embedding model retrieval uses
            self.reader.encoder_dir = ensure_packaged_model(s.model_cache_dir)
            self.reader.load()
        return self

    def warm_up(self) -> Pipeline:
        """Load everything and run one question through so the first user doesn't wait."""
        self.load()
        self.ask("聯合國")
        return self

    def check_question(self, question: str) -> str:
        cleaned = clean_question(question or "")
        if not cleaned:
            raise QuestionError("the question is empty")
        if len(cleaned) > self.settings.max_question_chars:
            raise QuestionError(
                f"the question is {len(cleaned)} characters long; the limit is {self.settings.max_question_chars}"
            )
        return cleaned

    def search(self, question: str, top_k: int | None = None) -> list[Hit]:
        question = self.check_question(question)
        self.load(with_reader=False)
        return self.retriever.search(question, top_k or self.settings.top_k)

    def read(self, question: str, hits: list[Hit]) -> tuple[list[Answer], bool]:
        """Answers from the first `read_k` hits' passages, best first; (answers, no_answer).

        Answers rank by the reader's span probability times the passage's share of retrieval
        (softmax of fused scores): on the dev set this lifted HasAns F1 from 0.76 to 0.81 and
        citation accuracy from 0.93 to 0.98 over the reader's probability alone. Reading the top
        3 passages instead of 5 lost nothing there and is faster.
        """
        question = self.check_question(question)
        self.load()
        hits = hits[: self.settings.read_k]
        spans = self.reader.read(question, [h.passage.text for h in hits])
        shares = np.exp([h.score for h in hits])
        shares = shares / shares.sum() if len(hits) else shares
        answers: dict[str, tuple[float, Answer]] = {}
        for span in spans:
            answer = _make_answer(hits[span.text_index], span.start, span.end, span.score)
            rank = span.score * shares[span.text_index]
            key = normalize_answer(answer.text)
            if key not in answers or answers[key][0] < rank:
                answers[key] = (rank, answer)
        ranked = [a for _, a in sorted(answers.values(), key=lambda item: item[0], reverse=True)]
        if not ranked or ranked[0].score < self.settings.no_answer_threshold:
            return [], True
        return ranked[: self.settings.max_answers], False

    def ask(self, question: str, top_k: int | None = None) -> AskResult:
        question = self.check_question(question)
        t0 = time.perf_counter()
        hits = self.search(question, top_k)
        t1 = time.perf_counter()
        answers, no_answer = self.read(question, hits)
        t2 = time.perf_counter()
        timings = {
            "retrieve": round((t1 - t0) * 1000, 1),
            "read": round((t2 - t1) * 1000, 1),
            "total": round((t2 - t0) * 1000, 1),
        }
        return AskResult(question, answers, hits, no_answer, timings)

    def passage(self, passage_id: str) -> Passage | None:
        self.load(with_reader=False)
        return self.index.by_id(passage_id)


def _make_answer(hit: Hit, start: int, end: int, score: float) -> Answer:
    text = hit.passage.text
    lo, hi = max(0, start - CONTEXT_CHARS), min(len(text), end + CONTEXT_CHARS)
    return Answer(
        text=text[start:end],
        score=score,
        passage=hit.passage,
        start=start,
        end=end,
        context=text[lo:hi],
    )
