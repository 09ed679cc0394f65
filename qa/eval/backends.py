"""Systems under test: the pipeline in this process, or a deployment over HTTP, both answering
as `Response`s; and the pipelines `qa eval` builds (the configured index, or a SQuAD file's own
paragraphs).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from qa.config import Settings
from qa.eval.questions import EvalError, PassageRef, dataset_format
from qa.language.text import QuestionError
from qa.storage.layout import IndexUnusableError, index_exists
from qa.types import Turn

log = logging.getLogger(__name__)

RETRIEVE_K = 10  # Recall@10 / MRR@10 need ten hits, whatever the reader reads
URL_SWEEP_NOTE = ("note: over HTTP the answers a deployment withholds (below its own no-answer threshold) are not "
                  "seen, so the best threshold is only searched from that threshold up")


@dataclass
class Response:
    """What one question got back, the same shape whichever way it was asked."""

    answer: str = ""  # top answer, before any threshold ("" when the system found none)
    score: float | None = None
    cited: PassageRef | None = None
    hits: list[PassageRef] = field(default_factory=list)
    latency_ms: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    resolved: str | None = None  # the question the system answered (a follow-up completed from its history)


def _response_from_payload(ask: dict | None, passages: list[dict], latency_ms: float) -> Response:
    """Parse the HTTP API's JSON (serialize.ask_response), used for both modes so they agree."""
    answers = (ask or {}).get("answers") or []
    top = answers[0] if answers and not (ask or {}).get("no_answer") else None
    return Response(
        answer=top["text"] if top else "",
        score=float(top["score"]) if top else None,
        cited=PassageRef.from_dict(top) if top else None,
        hits=[PassageRef.from_dict(p) for p in passages],
        latency_ms=latency_ms,
        timings_ms=dict((ask or {}).get("timings_ms") or {}),
        resolved=(ask or {}).get("resolved_question"),
    )


class Backend(Protocol):
    read_k: int

    def prepare(self, retrieval_only: bool, warm_question: str) -> None: ...

    def ask(self, question: str, history: tuple[Turn, ...] = ()) -> Response: ...

    def search(self, question: str) -> Response: ...

    def describe(self) -> dict: ...

    def close(self) -> None: ...


class PipelineBackend:
    """The real pipeline in this process, asked with a no-answer threshold of 0 so every score is
    seen (the sweep needs them); its settings are left as they are."""

    def __init__(self, pipeline) -> None:
        self.pipeline = pipeline
        self.read_k = pipeline.settings.read_k
        self.retrieve_k = max(RETRIEVE_K, self.read_k)

    def prepare(self, retrieval_only: bool, warm_question: str) -> None:
        self.pipeline.load(with_reader=not retrieval_only)
        try:  # warm-up: the first call pays for lazy allocations; latency is per question after it
            (self.search if retrieval_only else self.ask)(warm_question)
        except ValueError:
            pass

    def close(self) -> None:
        pass

    def ask(self, question: str, history: tuple[Turn, ...] = ()) -> Response:
        from qa.present import ask_response

        t0 = time.perf_counter()
        try:  # reads only settings.read_k of the hits
            result = self.pipeline.ask(question, top_k=self.retrieve_k, no_answer_threshold=0.0, use_cache=False,
                                       history=list(history) or None)
        except QuestionError as exc:
            return Response(error=str(exc))
        latency = (time.perf_counter() - t0) * 1000
        payload = ask_response(result)
        response = _response_from_payload(payload, payload["passages"], latency)
        if result.answers:  # unrounded, as the pipeline compares it with its threshold (the API rounds to 4 places)
            response.score = float(result.answers[0].score)
        return response

    def search(self, question: str) -> Response:
        from qa.present import search_response

        t0 = time.perf_counter()
        try:
            hits = self.pipeline.search(question, self.retrieve_k)
        except QuestionError as exc:
            return Response(error=str(exc))
        latency = (time.perf_counter() - t0) * 1000
        return _response_from_payload(None, search_response(question, hits)["passages"], latency)

    def describe(self) -> dict:
        p = self.pipeline
        manifest = p.index.manifest if p.index is not None else {}
        return {
            "mode": "in-process",
            "url": None,
            "index_dir": str(p.settings.resolved_index_dir),
            "corpus": manifest.get("corpus"),
            "corpus_sha256": manifest.get("corpus_sha256"),
            "passages": manifest.get("passages"),
            "embedding_model": p.embedder.model_name,
            "reader": (p.reader.info or {}).get("validation"),
            "reader_training_data": (p.reader.info or {}).get("data"),
        }


class HttpBackend:
    """A running deployment, through POST /v1/ask with top_k 10 (it reads only its read_k of them).

    `read_k` is what the deployment is assumed to read (the local setting): only the miss
    explanations use it."""

    def __init__(self, url: str, read_k: int, timeout_s: float = 120.0, wait_s: float = 120.0) -> None:
        self.url = url.rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise EvalError(f"--url must start with http:// or https:// (got {url!r})")
        self.read_k = read_k
        self.retrieve_k = max(RETRIEVE_K, read_k)
        self.timeout_s = timeout_s
        self.wait_s = wait_s
        self.health: dict = {}

    def _call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return resp.status, json.loads(resp.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read().decode("utf-8") or "{}")
            except (json.JSONDecodeError, UnicodeDecodeError):
                payload = {}
            return exc.code, payload if isinstance(payload, dict) else {}
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EvalError(f"cannot reach {self.url}{path}: {reason}") from exc
        except json.JSONDecodeError as exc:
            raise EvalError(f"{self.url}{path} did not answer with JSON; is it this service?") from exc

    def prepare(self, retrieval_only: bool, warm_question: str) -> None:
        deadline = time.monotonic() + self.wait_s
        while True:
            status, body = self._call("GET", "/healthz")
            if status == 200:
                self.health = body
                break
            if status != 503 or time.monotonic() > deadline:
                raise EvalError(f"{self.url}/healthz answered {status} {body.get('error', '')}".rstrip())
            log.info("%s is still loading; waiting", self.url)
            time.sleep(2)
        (self.search if retrieval_only else self.ask)(warm_question)

    def close(self) -> None:
        pass

    def ask(self, question: str, history: tuple[Turn, ...] = ()) -> Response:
        status, ask, latency = self._timed_post("/v1/ask", question, history)
        if status != 200:
            return Response(error=f"HTTP {status}: {ask.get('error', 'no message')}")
        return _response_from_payload(ask, ask.get("passages", []), latency)

    def search(self, question: str) -> Response:
        status, found, latency = self._timed_post("/v1/search", question)
        if status != 200:
            return Response(error=f"HTTP {status}: {found.get('error', 'no message')}")
        return _response_from_payload(None, found.get("passages", []), latency)

    def _timed_post(self, route: str, question: str, history: tuple[Turn, ...] = ()) -> tuple[int, dict, float]:
        """(status, payload, latency ms) of one question; a server without the route is the wrong server."""
        t0 = time.perf_counter()
        body = {"question": question, "top_k": self.retrieve_k}
        if history:
            body["history"] = [{"role": t.role, "content": t.content} for t in history]
        status, payload = self._call("POST", route, body)
        latency = (time.perf_counter() - t0) * 1000
        if status in (404, 405):
            raise EvalError(f"{self.url} has no POST {route} (HTTP {status}); is it this service?")
        return status, payload, latency

    def describe(self) -> dict:
        h = self.health
        return {
            "mode": "url",
            "url": self.url,
            "index_dir": None,
            "corpus": h.get("corpus"),
            "corpus_sha256": None,
            "passages": h.get("passages"),
            "embedding_model": h.get("model"),
            "reader": h.get("reader"),
        }


# ---------------------------------------------------------------------------------------------
# Pipelines for `qa eval`


def configured_pipeline(settings: Settings, with_reader: bool = True, progress: bool = False):
    """A loaded Pipeline over the configured index, built first when there is none (a fresh clone);
    a stale one is the user's call (EvalError says so)."""
    from qa.pipeline import Pipeline
    from qa.storage.collection import ensure_index

    pipeline = Pipeline(settings)
    try:
        ensure_index(settings, progress=progress, embedder=pipeline.embedder)
    except IndexUnusableError as exc:
        raise EvalError(str(exc)) from exc
    return pipeline.load(with_reader=with_reader)


def squad_pipeline(path: Path, settings: Settings | None = None, index_dir: Path | None = None,
                   with_reader: bool = True, progress: bool = False):
    """A loaded Pipeline over a SQuAD-format file's own paragraphs (passage id = paragraph id).

    Without `index_dir` the index is built in a temporary folder and removed once loaded (it is
    held in memory); with one, an up-to-date index there is reused, else built there."""
    from qa.pipeline import Pipeline
    from qa.storage.collection import ensure_index

    path = Path(path).resolve()
    if dataset_format(path) != "squad":
        raise EvalError(f"{path}: not SQuAD-format JSON")
    settings = settings or Settings()
    tmp = None if index_dir else Path(tempfile.mkdtemp(prefix="qa-eval-index-"))
    target = Path(index_dir) if index_dir else tmp / "index"
    s = settings.model_copy(update={"corpus": path, "index_dir": target})
    try:
        if tmp is not None:
            log.info("indexing the paragraphs of %s in a temporary folder (--index-dir keeps the index)", path.name)
        elif not index_exists(target):
            log.info("indexing the paragraphs of %s into %s", path.name, target)
        pipeline = Pipeline(s)
        try:  # built with its own embedder on every core (QA_INDEX_THREADS); the serving one has one thread
            state = ensure_index(s, progress=progress, rebuild_stale=True)
        except IndexUnusableError as exc:
            raise EvalError(str(exc)) from exc
        if state == "ready":
            log.info("reusing the index of %s in %s", path.name, target)
        return pipeline.load(with_reader=with_reader)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
