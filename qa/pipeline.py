"""The one object every interface talks to: retrieve, read, answer with citations."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from embeddings.encoder import Embedder
from qa.config import Settings
from qa.language.answer_kind import excluding_kind
from qa.language.bridge import bridged, load_glossary
from qa.language.followup import Resolution, resolve
from qa.language.names import SUBJECT_SHARE, Name, as_written, asked_names, missing_names, question_names
from qa.language.numbers import missing_numbers, question_numbers, restates_number, unmatched_numbers
from qa.language.pinyin import held_names, load_pinyin
from qa.language.places import english_places, load_places, with_short_forms
from qa.language.script import in_script, script_of
from qa.language.text import QuestionError, check_question, has_cjk, normalize_answer
from qa.lru import LruCache
from qa.reading.confidence import Calibration, calibration_for
from qa.reading.reader import Reader
from qa.reading.spans import Span
from qa.retrieval.followup import search_followup
from qa.retrieval.hybrid import HybridRetriever
from qa.retrieval.query_map import QueryMap, query_map_for
from qa.storage.base import PassageStore, passage_by_id
from qa.storage.layout import served_version
from qa.storage.lifecycle import open_index
from qa.types import Answer, AskResult, Hit, Passage, Turn

log = logging.getLogger(__name__)
CONTEXT_CHARS = 60  # characters of passage shown on each side of an answer


class Pipeline:
    """Holds the heavy parts (embedder, index, reader); `load()` brings them up once."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        s = self.settings
        self.embedder = Embedder.from_settings(s)
        self.reader = Reader.from_settings(s)
        self.index: PassageStore | None = None
        self.retriever: HybridRetriever | None = None
        self._answers = LruCache(s.answer_cache)
        self._shares = LruCache(4096)  # (index version, a name) -> the share of passages naming it
        self._scripts: dict[str, str | None] = {}  # passage id -> its script, worked out once
        self.calibration: Calibration | None = None  # the reader folder's, with the settings' thresholds (at load)
        self._query_map: QueryMap | None = None  # the English query map, when on and fitted for the embedder
        self._opening = threading.Lock()

    def load(self, with_reader: bool = True) -> Pipeline:
        s = self.settings
        if self.index is None or self._switched():
            with self._opening:
                if self.index is None or self._switched():
                    index = open_index(s)  # before the models: a missing index is one line, at once
                    self.embedder.load()
                    if s.map_english_queries and self._query_map is None:  # read once, not at every index switch
                        self._query_map = query_map_for(self.embedder.model_name, self.embedder.dimension)
                    self.retriever = HybridRetriever(index, self.embedder, s.dense_weight, s.sentence_weight,
                                                     s.non_cjk_dense_weight, s.candidates, s.expand_english,
                                                     self._query_map)
                    self.index = index
        if with_reader and self.reader.model is None:
            # the reader was trained on the packaged encoder: its tokenizer and frozen word
            # embeddings come from there whatever embedding model retrieval uses
            self.reader.load()
        if with_reader and self.calibration is None:
            self.calibration = calibration_for(s)
        if s.expand_english or (with_reader and (s.bridge_english or s.calibrate_confidence)):
            load_glossary()  # ~2 s, once (cached): not on the first English question
        if with_reader and s.require_question_names:
            load_places()  # ~3 s, once (cached; CC-CEDICT's names and jieba too): not on the first question
            load_pinyin()
        return self

    def _switched(self) -> bool:
        """Whether the index folder now serves another version than the one loaded (a document was added or removed
        here or by another process sharing the folder): the next request opens the new one."""
        folder = getattr(self.index, "folder", None)
        return folder is not None and served_version(self.settings.resolved_index_dir) not in (None, folder.name)

    @property
    def cites_files(self) -> bool:
        """Whether a citation names its file: the index holds several documents."""
        return self.index is not None and self.index.manifest.get("documents", 1) > 1

    @property
    def loaded(self) -> bool:
        return self.index is not None and self.reader.model is not None

    def warm_up(self) -> Pipeline:
        """Load everything and run one question through so the first user doesn't wait."""
        self.load()
        self.ask("聯合國")
        return self

    def check_question(self, question: str) -> str:
        return check_question(question, self.settings.max_question_chars)

    def top_k(self, requested: int | None) -> int:
        """The request's top_k, or the configured default; over `max_top_k` is the caller's error."""
        if requested is None:
            return self.settings.top_k
        if not 1 <= requested <= self.settings.max_top_k:
            raise QuestionError(f"must be between 1 and {self.settings.max_top_k} (got {requested})", "top_k")
        return requested

    def documents(self, requested: list[str] | None) -> list[str] | None:
        """The documents a request restricts itself to, checked against the index (None: all of them)."""
        if requested is None:
            return None
        self.load(with_reader=False)
        limit = self.settings.max_question_documents
        if len(requested) > limit:
            raise QuestionError(f"names {len(requested)} documents; the limit is {limit}", "documents")
        known = {d.id for d in self.index.documents()}
        unknown = [d for d in requested if d not in known]
        if unknown:
            raise QuestionError(f"no document {unknown[0]!r} in the index (GET /v1/documents lists them)", "documents")
        return sorted(set(requested))

    def search(self, question: str, top_k: int | None = None, documents: list[str] | None = None) -> list[Hit]:
        question = self.check_question(question)
        self.load(with_reader=False)
        return self.retriever.search(question, self.top_k(top_k), self.documents(documents))

    def read(
        self, question: str, hits: list[Hit], no_answer_threshold: float | None = None,
        exclude: Callable[[str], bool] | None = None, stop: Callable[[], bool] | None = None,
        own_words: str | None = None,
    ) -> tuple[list[Answer], bool, int]:
        """Answers from the first `read_k` hits' passages, best first; (answers, no_answer, tokens read).

        Answers rank by the reader's span probability times the passage's share of retrieval
        (softmax of `passage_rank_weight` x fused scores): on the dev set this lifted HasAns F1 from 0.76 to 0.81
        and citation accuracy from 0.93 to 0.98 over the reader's probability alone. Passages are read
        best first and reading stops once the best answer's rank reaches the next passage's share:
        no span there (probability <= 1) could outrank it, so the top answer is the one reading all
        `read_k` would give (`QA_EARLY_STOP=false` reads them all, for more runner-up answers).
        A question in the other Chinese script than a passage is read in the passage's script
        (`QA_FOLD_QUESTION_SCRIPT`). A passage lacking a number the question names is not read (an
        answer that only restates one is dropped: `QA_REQUIRE_QUESTION_NUMBERS`, `qa/language/numbers.py`), nor one
        lacking a name a Chinese question names, unless the corpus's subject (`QA_REQUIRE_QUESTION_NAMES`,
        `qa/language/names.py`).
        The top answer is withheld when its confidence (span probability, passage score and an English question's
        keyword coverage, `qa/reading/confidence.py`) is below the threshold; `no_answer_threshold` overrides the
        configured one for this call (eval asks with 0). `exclude` passes over spans known not to be the answer (a
        follow-up's previous answer). Spans of another kind than the question asks for (a month for a day, a count
        of incidents for people: `QA_CHECK_ANSWER_KIND`, qa/language/answer_kind.py) are ruled out with the shorter
        readings of them (`decode_spans`). The kind and the names are those of `own_words` when given (a follow-up as
        asked: its completed form also holds the question before it, whose place "那在阿富汗呢?" replaces). `stop` is
        asked before each reader run: True raises ReadingStopped (the client has gone).
        """
        question = self.check_question(question)
        self.load()
        s = self.settings
        rule_out = excluding_kind(own_words or question) if s.check_answer_kind else None
        numbers = question_numbers(question) if s.require_question_numbers else []
        if numbers:
            hits = [h for h in hits if not missing_numbers(numbers, h.passage.text)]
        if s.require_question_names:
            texts = [_with_headings(h.passage) for h in hits]
            names = self.asked_names(own_words or question, texts)
            hits = [h for h, text in zip(hits, texts) if not missing_names(names, text)]
        hits = hits[: s.read_k]
        shares = np.exp([s.passage_rank_weight * h.score for h in hits])
        shares = shares / shares.sum() if len(hits) else shares
        answers: dict[str, tuple[float, Answer]] = {}
        best, tokens = 0.0, 0
        for asked, batch in self._batches(question, hits):
            if s.early_stop and best >= shares[batch[0]]:
                break
            spans, cost = self._read_batch(asked, [hits[i] for i in batch], exclude, rule_out, stop)
            tokens += cost
            for span in spans:
                i = batch[span.text_index]
                answer = self._make_answer(question, hits[i], span.start, span.end, span.score)
                if numbers and restates_number(answer.text, numbers):
                    continue
                rank = span.score * shares[i]
                best = max(best, rank)
                key = normalize_answer(answer.text)
                if key not in answers or answers[key][0] < rank:
                    answers[key] = (rank, answer)
        ranked = [a for _, a in sorted(answers.values(), key=lambda item: item[0], reverse=True)]
        threshold = self.calibration.threshold_for(question) if no_answer_threshold is None else no_answer_threshold
        if not ranked or ranked[0].score < threshold:
            return [], True, tokens
        return ranked[: s.max_answers], False, tokens

    def asked_names(self, question: str, texts: list[str] | None = None) -> list[Name]:
        """The names the question names that are not the corpus's subject: a Chinese question's proper nouns
        (`qa/language/names.py`), an English one's places (`qa/language/places.py`) and the pinyin names one of
        `texts` (the passages found) holds (`qa/language/pinyin.py`)."""
        if has_cjk(question):
            named = with_short_forms(question_names(question))
        else:
            named = english_places(question) + held_names(question, texts or [])
        return asked_names(named, self._subject)

    def _subject(self, name: Name) -> bool:
        """Whether the corpus's passages share the name widely (SUBJECT_SHARE), so a passage may leave it unsaid."""
        key = (self.index.version(), name.forms)  # a pinyin name's forms are those of the passages found
        share = self._shares.get(key)
        if share is None:
            share = self.index.share_holding(name.forms)
            self._shares.put(key, share)
        return share >= SUBJECT_SHARE

    def _read_batch(self, asked: str, hits: list[Hit], exclude: Callable[[str], bool] | None = None,
                    rule_out: Callable[[str], bool] | None = None,
                    stop: Callable[[], bool] | None = None) -> tuple[list[Span], int]:
        """(spans, tokens read): of a passage longer than one reader window, the window nearest its sentence
        closest to the question first, and its other windows only when no span there is
        `read_window_confidence` likely (so reading all of it costs no more than reading it whole)."""
        texts = [hit.passage.text for hit in hits]
        windows = self.reader.windows(asked, texts)
        windowed = [self._windowed(hit) for hit in hits]
        first = [row for row, t in enumerate(windows.text_index) if not windowed[t]]
        first += [windows.nearest(t, sum(hits[t].focus) // 2) for t in range(len(hits)) if windowed[t]]
        rest = sorted(set(range(len(windows.text_index))) - set(first))
        _check(stop)
        spans, cost = self.reader.read_windows(windows, sorted(first), texts, exclude, rule_out)
        if rest and max((span.score for span in spans), default=0.0) < self.settings.read_window_confidence:
            _check(stop)
            more, extra = self.reader.read_windows(windows, rest, texts, exclude, rule_out)
            return spans + more, cost + extra
        return spans, cost

    def _windowed(self, hit: Hit) -> bool:
        """Read one window first? For every question since reader v4 (English ones included: held-out DRCD
        half B in English, F1 40.4 -> 41.9, p50 1,021 -> 861 ms)."""
        return self.settings.read_window and hit.focus is not None

    def _batches(self, question: str, hits: list[Hit]) -> list[tuple[str, list[int]]]:
        """Reading order, as (question as read, hit indices): one passage at a time with early stopping,
        else one batch per distinct question as read (per script; per passage for a bridged question)."""
        asked = [self.as_read(question, hit.passage) for hit in hits]
        if self.settings.early_stop:
            return [(asked[i], [i]) for i in range(len(hits))]
        groups: dict[str, list[int]] = {}
        for i, text in enumerate(asked):
            groups.setdefault(text, []).append(i)
        return list(groups.items())

    def as_read(self, question: str, passage: Passage) -> str:
        """The question as the reader gets it: in the passage's script (`QA_FOLD_QUESTION_SCRIPT`); one with
        no Chinese also with the passage's own words for its English keywords (`QA_BRIDGE_ENGLISH`)."""
        if self.settings.fold_question_script:
            question = in_script(question, self._script(passage))
        if self.settings.bridge_english and not has_cjk(question):
            question = bridged(question, passage.text)
        return question

    def _script(self, passage: Passage) -> str | None:
        if passage.id not in self._scripts:
            self._scripts[passage.id] = script_of(passage.text)
        return self._scripts[passage.id]

    def resolve(self, question: str, history: list[Turn] | None = None) -> Resolution:
        """The question checked, and with the conversation before it (`history`, oldest first): whether it is a
        follow-up and the question it stands for (qa/language/followup.py)."""
        question = self.check_question(question)
        turns = self.check_history(history or [])
        return resolve(question, turns) if turns else Resolution(question, question, False)

    def check_history(self, history: list[Turn]) -> list[Turn]:
        """The conversation's messages checked as questions are (QuestionError naming `history.N.content`); only the
        most recent `max_history_turns` are kept."""
        s = self.settings
        if len(history) > s.max_history_turns:
            raise QuestionError(f"has {len(history)} messages; the limit is {s.max_history_turns}", "history")
        turns = []
        for i, turn in enumerate(history):
            if turn.role not in ("user", "assistant"):
                raise QuestionError(f"role must be 'user' or 'assistant' (got {turn.role!r})", f"history.{i}.role")
            limit = s.max_question_chars if turn.role == "user" else s.max_history_chars
            try:
                turns.append(Turn(turn.role, check_question(turn.content, limit)))
            except QuestionError as exc:
                raise QuestionError(str(exc).replace("the question", "the message"), f"history.{i}.content") from exc
        return turns

    def retrieve(self, resolution: Resolution, top_k: int | None = None,
                 documents: list[str] | None = None) -> tuple[list[Hit], float, Resolution]:
        """The first stage of `ask`: the hits, the milliseconds they took, and the question as resolved (a
        follow-up's hits mix its completed form and itself and favour the previous answer's passage; retrieval
        also decides whether a question without cues follows on, qa/retrieval/followup.py)."""
        t0 = time.perf_counter()
        if resolution.follows:
            self.load(with_reader=False)
            s = self.settings
            hits, resolution = search_followup(self.retriever, resolution, self.top_k(top_k),
                                               self.documents(documents), s.followup_completed_weight,
                                               s.followup_prior)
        else:
            hits = self.search(resolution.question, top_k, documents)
        return hits, _ms(time.perf_counter() - t0), resolution

    def answer(
        self, question: str, hits: list[Hit], retrieve_ms: float = 0.0, no_answer_threshold: float | None = None,
        resolution: Resolution | None = None, stop: Callable[[], bool] | None = None,
    ) -> AskResult:
        """The second stage of `ask`: read the hits (a follow-up in its completed form), with the timings of both;
        `stop`: see `read`."""
        t0 = time.perf_counter()
        asked = resolution.resolved if resolution is not None else question
        exclude = resolution.repeats if resolution is not None and resolution.follows else None
        answers, no_answer, tokens = self.read(asked, hits, no_answer_threshold, exclude, stop, own_words=question)
        read_ms = _ms(time.perf_counter() - t0)
        timings = {"retrieve": retrieve_ms, "read": read_ms, "total": round(retrieve_ms + read_ms, 1)}
        unmatched, unnamed = [], []  # why there is no answer, when the question's numbers or names are
        if no_answer and self.settings.require_question_numbers:
            unmatched = unmatched_numbers(question_numbers(asked), [h.passage.text for h in hits])
        if no_answer and self.settings.require_question_names:
            texts = [_with_headings(h.passage) for h in hits]
            unnamed = [as_written(name, question) for name in self.asked_names(question, texts)
                       if all(missing_names([name], text) for text in texts)]
        return AskResult(question, answers, hits, no_answer, timings, tokens_read=tokens, unmatched_numbers=unmatched,
                         unmatched_names=unnamed, cite_files=self.cites_files, resolved_question=asked)

    def ask(self, question: str, top_k: int | None = None, no_answer_threshold: float | None = None,
            use_cache: bool = True, documents: list[str] | None = None,
            history: list[Turn] | None = None, stop: Callable[[], bool] | None = None) -> AskResult:
        """Retrieve and read (a follow-up with the conversation before it, `history`); a repeated question (after
        normalisation, in the same conversation) is answered from an LRU cache unless `use_cache` is off
        (evaluation measures answering, not the cache). `stop`: see `read`."""
        t0 = time.perf_counter()
        resolution = self.resolve(question, history)
        question = resolution.question
        self.load(with_reader=False)
        documents = self.documents(documents)
        key = (question, resolution.resolved, resolution.answer, self.top_k(top_k), no_answer_threshold,
               self.index.version(), tuple(documents or ()))
        cached = self._answers.get(key) if use_cache else None
        if cached is not None:
            lookup = _ms(time.perf_counter() - t0)
            return replace(cached, timings_ms={"retrieve": 0.0, "read": 0.0, "total": lookup, "cached": 1.0},
                           tokens_read=0)
        hits, retrieve_ms, resolution = self.retrieve(resolution, top_k, documents)
        result = self.answer(question, hits, retrieve_ms, no_answer_threshold, resolution, stop)
        self._answers.put(key, result)
        return result

    def _make_answer(self, question: str, hit: Hit, start: int, end: int, span_probability: float) -> Answer:
        """The span as an answer, scored by the reader's calibrated confidence (`qa/reading/confidence.py`)."""
        text = hit.passage.text
        coverage = self.calibration.coverage(question, text) if self.calibration.weights else 0.0
        score = self.calibration.confidence(span_probability, hit.score, hit.candidates, coverage)
        lo, hi = max(0, start - CONTEXT_CHARS), min(len(text), end + CONTEXT_CHARS)
        return Answer(
            text=text[start:end],
            score=score,
            span_probability=span_probability,
            passage=hit.passage,
            start=start,
            end=end,
            context=text[lo:hi],
        )

    def passage(self, passage_id: str) -> Passage | None:
        self.load(with_reader=False)
        return passage_by_id(self.index, passage_id)


def _with_headings(passage: Passage) -> str:
    """A passage's text with what heads it (its box, heading, section and document titles): a box on Yemen may name
    Yemen only in its title."""
    heads = (passage.box, passage.heading, passage.section, passage.document.title if passage.document else None)
    return "\n".join([passage.text, *(h for h in heads if h)])


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class ReadingStopped(Exception):
    """The caller's `stop` said to stop reading (a stream's client has gone): no answer is owed."""


def _check(stop: Callable[[], bool] | None) -> None:
    if stop is not None and stop():
        raise ReadingStopped
