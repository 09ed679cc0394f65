"""Measuring the service on a question set: the metrics of docs/EVAL.md, in-process or over HTTP.

Two question formats are read (`load_dataset`):
- the project's JSON lines, one `{"id", "question", "answers", "paragraph", "type", "script"}`
  object a line, where `paragraph` is the gold paragraph number, `"box:<title>"` for a boxed
  sidebar, `"id:<passage id>"` for corpora without paragraph numbers, or null; `answers` [] with
  `paragraph` null means the document does not answer the question;
- SQuAD-format JSON (DRCD, CMRC 2018), where the gold passage is the question's paragraph id.

`evaluate()` returns one JSON-ready dict (what `qa eval --json` prints); `qa.report` turns it
into HTML and `compare()` tells two of them apart.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa.config import Settings
from qa.metrics import exact_match, f1_score
from qa.squad import SquadFormatError, is_squad_json, read_squad

log = logging.getLogger(__name__)

RESULT_VERSION = 1
RETRIEVE_K = 10  # Recall@10 / MRR@10 need ten hits, whatever the reader reads
RECALL_KS = (1, 3, 5, 10)
TYPE_ORDER = ("number", "date", "entity", "place", "phrase", "why/how", "unanswerable")
SCRIPT_ORDER = ("traditional", "simplified", "english", "mixed")


URL_SWEEP_NOTE = ("note: over HTTP the answers a deployment withholds (below its own no-answer threshold) are not "
                  "seen, so the best threshold is only searched from that threshold up")


class EvalError(ValueError):
    """Evaluation can't go on (bad data set, unreachable deployment); the message says why in a line."""


# ---------------------------------------------------------------------------------------------
# Data sets


@dataclass(frozen=True)
class PassageRef:
    """Enough of a passage to cite it and to match it against a gold reference."""

    id: str
    paragraph: int | None = None
    box: str | None = None

    @property
    def label(self) -> str:
        if self.paragraph is not None:
            return f"第{self.paragraph}段"
        return f"box:{self.box}" if self.box else self.id

    @classmethod
    def from_dict(cls, d: dict) -> PassageRef:
        return cls(id=str(d.get("id", "")), paragraph=d.get("paragraph"), box=d.get("box"))


@dataclass(frozen=True)
class EvalQuestion:
    """One question with its gold answers and gold passage.

    `gold` is how the data set cites the passage: a paragraph number, "box:<title>",
    "id:<passage id>", or None (unanswerable, or answerable with no passage given)."""

    id: str
    question: str
    answers: tuple[str, ...]
    gold: int | str | None = None
    type: str | None = None
    script: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def gold_label(self) -> str:
        if self.gold is None:
            return ""
        return f"第{self.gold}段" if isinstance(self.gold, int) else self.gold

    def matches(self, ref: PassageRef | None) -> bool:
        """Whether `ref` is the gold passage (boxes match on their title line, trailing space stripped)."""
        if ref is None or self.gold is None:
            return False
        if isinstance(self.gold, int):
            return ref.paragraph == self.gold
        if self.gold.startswith("box:"):
            return ref.box is not None and ref.box.rstrip() == self.gold[4:].rstrip()
        return ref.id == self.gold[3:]

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"id": self.id, "question": self.question, "answers": list(self.answers),
                               "paragraph": self.gold}
        if self.type is not None:
            out["type"] = self.type
        if self.script is not None:
            out["script"] = self.script
        return out


def dataset_format(path: Path) -> str:
    """Tell the two formats apart by content, so a SQuAD file needs no flag (.jsonl is always JSON lines)."""
    path = Path(path)
    if not path.is_file():
        raise EvalError(f"{path}: no such file")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return "jsonl"
    with path.open("rb") as fh:
        head = fh.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("{") and head[1:].lstrip().startswith('"data"'):
        return "squad"
    if head.startswith("["):
        raise EvalError(f"{path}: a JSON array is not supported; use JSON lines or SQuAD format")
    if head.startswith("{"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return "jsonl"  # several objects: JSON lines (the loader reports a bad line by number)
        if is_squad_json(data):
            return "squad"
        if isinstance(data, dict) and "question" not in data:
            raise EvalError(f"{path}: JSON but neither SQuAD format (a 'data' list) nor JSON lines of questions")
    return "jsonl"


def load_dataset(path: Path) -> list[EvalQuestion]:
    """Questions of a project JSONL or SQuAD-format file; EvalError names the file and line."""
    path = Path(path)
    if dataset_format(path) == "squad":
        try:
            _, questions = read_squad(path)
        except SquadFormatError as exc:
            raise EvalError(str(exc)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise EvalError(f"{path}: unreadable ({exc})") from exc
        if not questions:
            raise EvalError(f"{path}: no questions found")
        return [
            EvalQuestion(q.id, q.question, q.answers, f"id:{q.paragraph.id}" if q.answers else None)
            for q in questions
        ]
    return _load_jsonl(path)


def _load_jsonl(path: Path) -> list[EvalQuestion]:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise EvalError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise EvalError(f"{where}: expected a JSON object")
        question = obj.get("question")
        if not isinstance(question, str) or not question.strip():
            raise EvalError(f'{where}: "question" must be a non-empty string')
        answers = obj.get("answers", [])
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise EvalError(f'{where}: "answers" must be a list of strings')
        answers = [a for a in answers if a.strip()]
        gold = obj.get("paragraph")
        ok = gold is None or (isinstance(gold, int) and not isinstance(gold, bool)) or (
            isinstance(gold, str) and gold.startswith(("box:", "id:")) and len(gold) > 4
        )
        if not ok:
            raise EvalError(f'{where}: "paragraph" must be a number, "box:<title>", "id:<passage id>" or null')
        if gold is not None and not answers:
            raise EvalError(f'{where}: a gold paragraph but no "answers"; an unanswerable question has paragraph null')
        qid = str(obj.get("id", f"line-{lineno}"))
        if qid in seen:
            raise EvalError(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        qtype, script = obj.get("type"), obj.get("script")
        questions.append(
            EvalQuestion(qid, question, tuple(answers), gold,
                         str(qtype) if qtype is not None else None, str(script) if script is not None else None)
        )
    if not questions:
        raise EvalError(f"{path}: no questions found")
    return questions


def dataset_info(path: Path, questions: Sequence[EvalQuestion]) -> dict:
    path = Path(path)
    return {
        "path": str(path),
        "name": path.name,
        "format": dataset_format(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


# ---------------------------------------------------------------------------------------------
# Systems under test: the pipeline in this process, or a deployment over HTTP


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
    )


class Backend(Protocol):
    read_k: int

    def prepare(self, retrieval_only: bool, warm_question: str) -> None: ...

    def ask(self, question: str) -> Response: ...

    def search(self, question: str) -> Response: ...

    def describe(self) -> dict: ...

    def close(self) -> None: ...


class PipelineBackend:
    """The real pipeline in this process; asks with the threshold at 0 so every score is seen."""

    def __init__(self, pipeline) -> None:
        self.pipeline = pipeline
        self.read_k = pipeline.settings.read_k
        self.retrieve_k = max(RETRIEVE_K, self.read_k)
        self._saved_threshold: float | None = None

    def prepare(self, retrieval_only: bool, warm_question: str) -> None:
        self.pipeline.load(with_reader=not retrieval_only)
        self._saved_threshold = self.pipeline.settings.no_answer_threshold
        self.pipeline.settings.no_answer_threshold = 0.0
        try:  # warm-up: the first call pays for lazy allocations; latency is per question after it
            (self.search if retrieval_only else self.ask)(warm_question)
        except ValueError:
            pass

    def close(self) -> None:
        if self._saved_threshold is not None:
            self.pipeline.settings.no_answer_threshold = self._saved_threshold
            self._saved_threshold = None

    def ask(self, question: str) -> Response:
        from qa.pipeline import QuestionError
        from qa.serialize import ask_response

        t0 = time.perf_counter()
        try:
            result = self.pipeline.ask(question, top_k=self.retrieve_k)  # reads only settings.read_k of them
        except QuestionError as exc:
            return Response(error=str(exc))
        latency = (time.perf_counter() - t0) * 1000
        payload = ask_response(result)
        response = _response_from_payload(payload, payload["passages"], latency)
        if result.answers:  # unrounded, as the pipeline compares it with its threshold (the API rounds to 4 places)
            response.score = float(result.answers[0].score)
        return response

    def search(self, question: str) -> Response:
        from qa.pipeline import QuestionError
        from qa.serialize import search_response

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

    def ask(self, question: str) -> Response:
        t0 = time.perf_counter()
        status, ask = self._call("POST", "/v1/ask", {"question": question, "top_k": self.retrieve_k})
        latency = (time.perf_counter() - t0) * 1000
        if status in (404, 405):
            raise EvalError(f"{self.url} has no POST /v1/ask (HTTP {status}); is it this service?")
        if status != 200:
            return Response(error=f"HTTP {status}: {ask.get('error', 'no message')}")
        return _response_from_payload(ask, ask.get("passages", []), latency)

    def search(self, question: str) -> Response:
        t0 = time.perf_counter()
        status, found = self._call("POST", "/v1/search", {"question": question, "top_k": self.retrieve_k})
        latency = (time.perf_counter() - t0) * 1000
        if status in (404, 405):
            raise EvalError(f"{self.url} has no POST /v1/search (HTTP {status}); is it this service?")
        if status != 200:
            return Response(error=f"HTTP {status}: {found.get('error', 'no message')}")
        return _response_from_payload(None, found.get("passages", []), latency)

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


def machine_info(threads: int | None = None) -> dict:
    """What measured the latencies (EVAL.md asks to say)."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "threads": threads, "platform": platform.platform(),
            "python": platform.python_version()}


# ---------------------------------------------------------------------------------------------
# Scoring


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def recall_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose gold passage is among the top k (rank is 1-based, None: not found)."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr_at(ranks: Sequence[int | None], k: int = 10) -> float | None:
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r is not None and r <= k) / len(ranks)


def prediction_at(record: dict, threshold: float) -> str:
    """The answer shown at `threshold`: nothing when the system found none or its score is lower."""
    score = record.get("score")
    if score is None or score < threshold:
        return ""
    return record.get("top_answer") or ""


def _answer_scores(record: dict, threshold: float) -> tuple[float, float]:
    """(EM, F1) at a threshold, from the two precomputed outcomes (answer kept / withheld)."""
    if prediction_at(record, threshold):
        return record["_em_kept"], record["_f1_kept"]
    return record["_em_empty"], record["_f1_empty"]


def threshold_summary(records: Sequence[dict], threshold: float) -> dict:
    """Overall, HasAns and NoAns EM/F1 (percent) and no-answer accuracy at one threshold."""
    has = [r for r in records if r["answerable"]]
    no = [r for r in records if not r["answerable"]]

    def mean(rs: Sequence[dict], i: int) -> float | None:
        return 100.0 * sum(_answer_scores(r, threshold)[i] for r in rs) / len(rs) if rs else None

    abstained = [not prediction_at(r, threshold) for r in records]
    correct_call = sum(1 for r, a in zip(records, abstained, strict=True) if a != r["answerable"])
    return {
        "threshold": threshold,
        "em": mean(records, 0),
        "f1": mean(records, 1),
        "has_ans_em": mean(has, 0),
        "has_ans_f1": mean(has, 1),
        "no_ans_f1": mean(no, 1),
        "no_answer_accuracy": 100.0 * correct_call / len(records) if records else None,
        "answered": 100.0 * (len(records) - sum(abstained)) / len(records) if records else None,
    }


def best_threshold(records: Sequence[dict], prefer: float | None = None) -> dict:
    """The threshold that maximises overall F1 (SQuAD 2.0's best_f1_thresh). On ties `prefer`
    (the configured one) wins, so "already optimal" reads as such; else the lowest."""
    scores = sorted({r["score"] for r in records if r.get("score") is not None})
    candidates = [0.0, *scores]
    if scores:
        candidates.append(round(scores[-1] + 1e-4, 6))  # abstain on everything
    best: dict | None = threshold_summary(records, prefer) if prefer is not None else None
    for t in candidates:
        summary = threshold_summary(records, t)
        if best is None or summary["f1"] > best["f1"] + 1e-12:
            best = summary
    return best or threshold_summary(records, 0.0)


def sweep_grid(records: Sequence[dict]) -> list[float]:
    """Thresholds for the trade-off curve: fine near 0 (reader scores crowd there), 0.01 steps above."""
    grid = {0.0, *np.round(np.geomspace(1e-4, 1e-2, 9), 6).tolist(), *np.round(np.linspace(0, 1, 101), 4).tolist()}
    return sorted(grid)


def miss_reason(rec: dict, read_k: int) -> tuple[str | None, str]:
    """A short category and a sentence that says why a question was missed (None, "" when it wasn't)."""
    if not rec["answerable"]:
        if not rec["prediction"]:
            return None, ""
        return "false answer", f"answered an unanswerable question (score {rec['score']:.3g})"
    has_gold = rec["gold"] is not None
    cited_ok = rec["citation_correct"]
    if rec["em"] == 1.0 and (cited_ok or not has_gold):
        return None, ""
    rank = rec["gold_rank"]
    if rec.get("error"):
        return "error", rec["error"]
    if has_gold and (rank is None or rank > read_k):
        where = "not in the top 10" if rank is None else f"rank {rank}"
        return "retrieval", f"gold passage not among the {read_k} passages read ({where})"
    if not rec["prediction"]:
        if rec["top_answer"]:
            return "abstained", f"withheld “{rec['top_answer']}” (score {rec['score']:.3g}, below the threshold)"
        return "abstained", "no answer returned"
    if rec["em"] == 1.0:
        return "wrong passage", "right words, but cited a passage other than the gold one"
    if has_gold and not cited_ok:
        return "wrong passage", f"gold passage was read (rank {rank}) but the answer came from another"
    where = "right passage, " if has_gold else ""
    if rec["f1"] > 0:
        return "span boundary", f"{where}partial overlap (F1 {rec['f1']:.2f})"
    return "wrong span", f"{where}wrong span (no overlap)"


def _breakdown(records: Sequence[dict], key: str, order: Sequence[str], retrieval_only: bool) -> dict:
    values = [r[key] for r in records if r.get(key) is not None]
    if not values:
        return {}
    names = [v for v in order if v in values] + sorted({v for v in values if v not in order})
    out = {}
    for name in names:
        group = [r for r in records if r.get(key) == name]
        ranks = [r["gold_rank"] for r in group if r["answerable"] and r["gold"] is not None]
        row: dict[str, Any] = {"n": len(group)}
        if not retrieval_only:
            cited = [r["citation_correct"] for r in group if r["answerable"] and r["gold"] is not None]
            row["em"] = 100.0 * sum(r["em"] for r in group) / len(group)
            row["f1"] = 100.0 * sum(r["f1"] for r in group) / len(group)
            row["citation_accuracy"] = 100.0 * sum(cited) / len(cited) if cited else None
        row["retrieval"] = _retrieval(ranks)
        out[name] = row
    return out


def _retrieval(ranks: Sequence[int | None]) -> dict:
    return {"n": len(ranks), **{f"recall@{k}": recall_at(ranks, k) for k in RECALL_KS}, "mrr@10": mrr_at(ranks, 10)}


def _as_backend(system) -> Backend:
    if hasattr(system, "ask") and hasattr(system, "settings") and hasattr(system, "retriever"):
        return PipelineBackend(system)
    return system


def evaluate(
    pipeline,
    questions: Sequence[EvalQuestion],
    retrieval_only: bool = False,
    progress: bool = True,
    threshold: float | None = None,
) -> dict:
    """Ask every question, one at a time, and score it; the dict `qa eval --json` prints.

    `pipeline` is a Pipeline (asked in-process, its no-answer threshold set to 0 for the run so
    the sweep sees every score: don't evaluate a pipeline that serves traffic in this process) or
    a Backend such as HttpBackend. `threshold` is the no-answer threshold the headline numbers
    use (default: the pipeline's configured one)."""
    from tqdm.auto import tqdm

    if not questions:
        raise EvalError("no questions to evaluate")
    backend = _as_backend(pipeline)
    if threshold is None:
        settings = getattr(pipeline, "settings", None)
        threshold = settings.no_answer_threshold if settings is not None else Settings().no_answer_threshold
    raw: list[tuple[EvalQuestion, Response]] = []
    backend.prepare(retrieval_only, questions[0].question)
    try:
        for q in tqdm(questions, desc="qa eval", unit="q", file=sys.stderr, disable=not progress, dynamic_ncols=True):
            raw.append((q, backend.search(q.question) if retrieval_only else backend.ask(q.question)))
    finally:
        backend.close()
    records = [_record(q, r, threshold, backend.read_k, retrieval_only) for q, r in raw]
    result = {
        "version": RESULT_VERSION,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "retrieval_only": retrieval_only,
        "dataset": {
            "questions": len(records),
            "answerable": sum(r["answerable"] for r in records),
            "unanswerable": sum(not r["answerable"] for r in records),
        },
        "system": {
            **backend.describe(),
            "read_k": backend.read_k,
            "retrieve_k": max(RETRIEVE_K, backend.read_k),
            "no_answer_threshold": threshold,
            "machine": machine_info(getattr(getattr(pipeline, "settings", None), "threads", None)),
        },
        "units": {"em, f1, accuracy": "percent", "recall, mrr": "fraction of answerable questions with a gold passage",
                  "latency": "milliseconds per question, one at a time, after one warm-up question"},
        **summarise(records, threshold, backend.read_k, retrieval_only),
        "questions": [{k: v for k, v in r.items() if not k.startswith("_")} for r in records],
    }
    return result


def _record(q: EvalQuestion, resp: Response, threshold: float, read_k: int, retrieval_only: bool) -> dict:
    rank = next((i for i, h in enumerate(resp.hits, 1) if q.matches(h)), None)
    rec: dict[str, Any] = {
        "id": q.id,
        "question": q.question,
        "type": q.type,
        "script": q.script,
        "answers": list(q.answers),
        "answerable": q.answerable,
        "gold": q.gold,
        "gold_label": q.gold_label,
        "gold_rank": rank if q.answerable and q.gold is not None else None,
        "retrieved": [h.label for h in resp.hits],
        "latency_ms": round(resp.latency_ms, 1) if not resp.error else None,
        "timings_ms": resp.timings_ms,
        "error": resp.error,
    }
    if retrieval_only:
        return rec
    golds = list(q.answers)
    rec.update(
        top_answer=resp.answer,
        score=resp.score,
        cited=resp.cited.label if resp.cited else None,
        cited_id=resp.cited.id if resp.cited else None,
        _em_kept=exact_match(resp.answer, golds),
        _f1_kept=f1_score(resp.answer, golds),
        _em_empty=exact_match("", golds),
        _f1_empty=f1_score("", golds),
    )
    prediction = prediction_at(rec, threshold)
    rec["prediction"] = prediction
    rec["em"], rec["f1"] = _answer_scores(rec, threshold)
    gradable = q.answerable and q.gold is not None
    rec["citation_correct"] = (bool(prediction) and q.matches(resp.cited)) if gradable else None
    rec["reason"], rec["why"] = miss_reason(rec, read_k)
    rec["miss"] = rec["reason"] is not None
    return rec


def summarise(records: Sequence[dict], threshold: float, read_k: int, retrieval_only: bool = False) -> dict:
    """Aggregate per-question records into the metrics of EVAL.md (pure: unit-tested)."""
    ranks = [r["gold_rank"] for r in records if r["answerable"] and r["gold"] is not None]
    latencies = [r["latency_ms"] for r in records if r.get("latency_ms") is not None]
    server = [r["timings_ms"]["total"] for r in records if (r.get("timings_ms") or {}).get("total") is not None]
    metrics: dict[str, Any] = {}
    out: dict[str, Any] = {"metrics": metrics}
    if not retrieval_only:
        at = threshold_summary(records, threshold)
        best = best_threshold(records, prefer=threshold)
        cited = [r["citation_correct"] for r in records if r["citation_correct"] is not None]
        has = [r for r in records if r["answerable"]]
        no = [r for r in records if not r["answerable"]]
        metrics.update(
            em=at["em"],
            f1=at["f1"],
            has_ans={"n": len(has), "em": at["has_ans_em"], "f1": at["has_ans_f1"]},
            no_ans={"n": len(no), "em": at["no_ans_f1"], "f1": at["no_ans_f1"]},
            no_answer_accuracy=at["no_answer_accuracy"],
            answered=at["answered"],
            citation_accuracy=100.0 * sum(cited) / len(cited) if cited else None,
            best_threshold={k: best[k] for k in ("threshold", "f1", "em", "has_ans_f1", "no_ans_f1",
                                                  "no_answer_accuracy", "answered")},
        )
    metrics["retrieval"] = _retrieval(ranks)
    metrics["latency_ms"] = {
        "n": len(latencies), "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
        "mean": float(np.mean(latencies)) if latencies else None,
        "server_p50": percentile(server, 50), "server_p95": percentile(server, 95),
    }
    metrics["errors"] = sum(1 for r in records if r.get("error"))
    out["recall_curve"] = [recall_at(ranks, k) for k in range(1, RETRIEVE_K + 1)]
    if not retrieval_only:
        out["threshold_sweep"] = [threshold_summary(records, t) for t in sweep_grid(records)]
        reasons: dict[str, int] = {}
        for r in records:
            if r["reason"]:
                reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
        out["misses_by_reason"] = dict(sorted(reasons.items(), key=lambda kv: -kv[1]))
    out["by_type"] = _breakdown(records, "type", TYPE_ORDER, retrieval_only)
    out["by_script"] = _breakdown(records, "script", SCRIPT_ORDER, retrieval_only)
    return out


# ---------------------------------------------------------------------------------------------
# Pipelines for a data set


def ensure_index(settings: Settings, progress: bool = False) -> None:
    """Build the configured index when there is none (a fresh clone); a stale one is the user's call."""
    from embeddings.encoder import Embedder
    from qa.store import build_index, index_problem

    s = settings
    embedder = Embedder(s.embedding_model, s.model_cache_dir, s.threads, s.query_prefix, s.passage_prefix)
    problem = index_problem(s.resolved_index_dir, embedder, s.corpus)
    if problem is None:
        return
    if (s.resolved_index_dir / "manifest.json").exists():
        raise EvalError(problem)
    log.warning("no index in %s yet: building one from %s", s.resolved_index_dir, s.corpus)
    build_index(s.corpus, s.resolved_index_dir, embedder, s.index_kind, progress=progress)


def squad_pipeline(path: Path, settings: Settings | None = None, index_dir: Path | None = None,
                   with_reader: bool = True, progress: bool = False):
    """A loaded Pipeline over a SQuAD-format file's own paragraphs (passage id = paragraph id).

    Without `index_dir` the index is built in a temporary folder and removed once loaded (it is
    held in memory); with one, an up-to-date index there is reused, else built there."""
    from embeddings.encoder import Embedder
    from qa.pipeline import Pipeline
    from qa.store import build_index, index_problem

    path = Path(path).resolve()
    if dataset_format(path) != "squad":
        raise EvalError(f"{path}: not SQuAD-format JSON")
    settings = settings or Settings()
    tmp = None if index_dir else Path(tempfile.mkdtemp(prefix="qa-eval-index-"))
    target = Path(index_dir) if index_dir else tmp / "index"
    s = settings.model_copy(update={"corpus": path, "index_dir": target})
    try:
        embedder = Embedder(s.embedding_model, s.model_cache_dir, s.threads, s.query_prefix, s.passage_prefix)
        problem = index_problem(target, embedder, path)
        if problem is None:
            log.info("reusing the index of %s in %s", path.name, target)
        elif tmp is not None:
            log.info("indexing the paragraphs of %s in a temporary folder (--index-dir keeps the index)", path.name)
        elif (target / "manifest.json").exists():
            log.info("re-indexing %s into %s: %s", path.name, target, problem)
        else:
            log.info("indexing the paragraphs of %s into %s", path.name, target)
        if problem is not None:
            build_index(path, target, embedder, s.index_kind, progress=progress)
        pipeline = Pipeline(s)
        pipeline.embedder = embedder
        return pipeline.load(with_reader=with_reader)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Comparing two results

# metric path -> True when higher is better
_COMPARED = [
    ("em", True), ("f1", True), ("has_ans.f1", True), ("no_ans.f1", True), ("no_answer_accuracy", True),
    ("citation_accuracy", True), ("best_threshold.threshold", None), ("best_threshold.f1", True),
    ("retrieval.recall@1", True), ("retrieval.recall@3", True), ("retrieval.recall@5", True),
    ("retrieval.recall@10", True), ("retrieval.mrr@10", True),
    ("latency_ms.p50", False), ("latency_ms.p95", False), ("errors", False),
]


def _get(d: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def paired_bootstrap(old: Sequence[float], new: Sequence[float], rounds: int = 2000, seed: int = 0
                     ) -> tuple[float, float, float]:
    """Mean difference new - old and its 95% interval, resampling questions (fixed seed: reproducible)."""
    diff = np.asarray(new, dtype=float) - np.asarray(old, dtype=float)
    if not len(diff):
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(rounds, len(diff)))].mean(axis=1)
    return float(diff.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def compare(old: dict, new: dict) -> dict:
    """What changed between two results: metric deltas, questions fixed or broken, and a verdict."""
    rows = []
    for path, higher_better in _COMPARED:
        a, b = _get(old.get("metrics", {}), path), _get(new.get("metrics", {}), path)
        if a is None and b is None:
            continue
        delta = b - a if a is not None and b is not None else None
        if delta is None or higher_better is None or abs(delta) < 1e-9:
            verdict = ""
        else:
            verdict = "better" if (delta > 0) == higher_better else "worse"
        rows.append({"metric": path, "old": a, "new": b, "delta": delta, "verdict": verdict})
    for group in ("by_type", "by_script"):
        for name in sorted(set(old.get(group, {})) | set(new.get(group, {}))):
            a, b = _get(old.get(group, {}), f"{name}.f1"), _get(new.get(group, {}), f"{name}.f1")
            if a is None or b is None:
                continue
            delta = b - a
            verdict = "" if abs(delta) < 1e-9 else ("better" if delta > 0 else "worse")
            rows.append({"metric": f"{group[3:]} {name} f1", "old": a, "new": b, "delta": delta, "verdict": verdict})
    old_q = {q["id"]: q for q in old.get("questions", [])}
    new_q = {q["id"]: q for q in new.get("questions", [])}
    shared = [i for i in new_q if i in old_q]
    changes = []
    both_answered = all("f1" in old_q[i] and "f1" in new_q[i] for i in shared)
    if both_answered:
        for i in shared:
            a, b = old_q[i], new_q[i]
            if abs(a["f1"] - b["f1"]) > 1e-9 or a.get("prediction") != b.get("prediction"):
                kind = ("fixed" if b["em"] > a["em"] else "broken" if b["em"] < a["em"]
                        else "better" if b["f1"] > a["f1"] else "worse" if b["f1"] < a["f1"] else "changed")
                changes.append({"id": i, "question": b["question"], "kind": kind, "old": a.get("prediction", ""),
                                "new": b.get("prediction", ""), "old_f1": a["f1"], "new_f1": b["f1"],
                                "gold": b.get("answers", [])})
    rank_changes = []
    for i in shared:
        a, b = old_q[i].get("gold_rank"), new_q[i].get("gold_rank")
        if a != b and old_q[i].get("answerable"):
            rank_changes.append({"id": i, "question": new_q[i]["question"], "old_rank": a, "new_rank": b})
    if both_answered and shared:
        f1 = paired_bootstrap([old_q[i]["f1"] * 100 for i in shared], [new_q[i]["f1"] * 100 for i in shared])
        measure = "F1"
    else:
        f1 = paired_bootstrap([_rr(old_q[i]) for i in shared], [_rr(new_q[i]) for i in shared])
        measure = "reciprocal rank"
    mean, lo, hi = f1
    if not shared:
        verdict = "no shared questions: nothing to compare"
    elif lo > 0:
        verdict = f"improvement: {measure} {mean:+.3g} (95% CI {lo:+.3g} to {hi:+.3g}) over {len(shared)} questions"
    elif hi < 0:
        verdict = f"regression: {measure} {mean:+.3g} (95% CI {lo:+.3g} to {hi:+.3g}) over {len(shared)} questions"
    else:
        verdict = (f"no clear change: {measure} {mean:+.3g} (95% CI {lo:+.3g} to {hi:+.3g}) over "
                   f"{len(shared)} questions")
    warnings = []
    od, nd = old.get("dataset", {}), new.get("dataset", {})
    if od.get("sha256") and nd.get("sha256") and od["sha256"] != nd["sha256"]:
        warnings.append(f"different data sets ({od.get('name')} vs {nd.get('name')}); per-question changes use "
                        f"the {len(shared)} shared ids")
    os_, ns = old.get("system", {}), new.get("system", {})
    if os_.get("no_answer_threshold") != ns.get("no_answer_threshold"):
        warnings.append(f"no-answer threshold {os_.get('no_answer_threshold')} -> {ns.get('no_answer_threshold')}")
    if (os_.get("machine") or {}).get("cpu") != (ns.get("machine") or {}).get("cpu"):
        warnings.append("measured on different machines: latency is not comparable")
    return {"metrics": rows, "questions": changes, "ranks": rank_changes, "shared": len(shared),
            "verdict": verdict, "warnings": warnings}


def _rr(q: dict) -> float:
    r = q.get("gold_rank")
    return 1.0 / r if r else 0.0


# ---------------------------------------------------------------------------------------------
# Text output


def _fmt(value, kind: str = "pct") -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value:.1f}"
    if kind == "frac":
        return f"{value:.3f}"
    if kind == "ms":
        return f"{value:.0f}"
    if kind == "g":
        return f"{value:.4g}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], left: Sequence[int] = (0,)) -> str:
    from unicodedata import east_asian_width

    def width(s: str) -> int:
        return sum(2 if east_asian_width(c) in "WF" else 1 for c in s)

    rows = [list(map(str, r)) for r in rows]
    widths = [max(width(str(h)), *(width(r[i]) for r in rows)) if rows else width(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, c in enumerate(cells):
            pad = " " * (widths[i] - width(c))
            parts.append(c + pad if i in left else pad + c)
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def format_summary(result: dict) -> str:
    """The console view: headline numbers, breakdowns, and why the misses were missed."""
    m, sysinfo, ds = result["metrics"], result["system"], result["dataset"]
    out = [f"{ds.get('name', 'dataset')}: {ds['questions']} questions ({ds['answerable']} answerable, "
           f"{ds['unanswerable']} unanswerable) · {sysinfo['mode']}"
           + (f" {sysinfo['url']}" if sysinfo.get("url") else "")
           + f" · reads top {sysinfo['read_k']} · threshold {sysinfo['no_answer_threshold']:g}", ""]
    rows = []
    if not result["retrieval_only"]:
        best = m["best_threshold"]
        rows += [
            ("EM", _fmt(m["em"]), f"HasAns {_fmt(m['has_ans']['em'])} (n={m['has_ans']['n']}) · "
                                   f"NoAns {_fmt(m['no_ans']['em'])} (n={m['no_ans']['n']})"),
            ("F1", _fmt(m["f1"]), f"HasAns {_fmt(m['has_ans']['f1'])} · NoAns {_fmt(m['no_ans']['f1'])}"),
            ("no-answer accuracy", _fmt(m["no_answer_accuracy"]), f"answered {_fmt(m['answered'])}% of questions"),
            ("citation accuracy", _fmt(m["citation_accuracy"]), "top answer cites the gold passage"),
            ("best threshold", f"{best['threshold']:.4g}", f"F1 {_fmt(best['f1'])} · EM {_fmt(best['em'])} · "
                                                            f"no-answer acc. {_fmt(best['no_answer_accuracy'])}"),
        ]
    r = m["retrieval"]
    rows += [
        ("Recall@1/3/5/10", " / ".join(_fmt(r[f"recall@{k}"], "frac") for k in RECALL_KS), f"n={r['n']}"),
        ("MRR@10", _fmt(r["mrr@10"], "frac"), ""),
    ]
    lat = m["latency_ms"]
    rows.append(("latency p50/p95 ms", f"{_fmt(lat['p50'], 'ms')} / {_fmt(lat['p95'], 'ms')}",
                 f"{sysinfo['machine'].get('cpu') or '?'}, {sysinfo['machine'].get('cores')} cores"))
    if m.get("errors"):
        rows.append(("errors", str(m["errors"]), "questions the system refused or failed"))
    out.append(_table(("metric", "value", ""), rows, left=(0, 2)))
    for group in ("by_type", "by_script"):
        table = result.get(group) or {}
        if not table:
            continue
        out.append("")
        if result["retrieval_only"]:
            out.append(_table((group[3:], "n", "R@1", "R@5"),
                              [(k, v["n"], _fmt(v["retrieval"]["recall@1"], "frac"),
                                _fmt(v["retrieval"]["recall@5"], "frac")) for k, v in table.items()]))
        else:
            out.append(_table((group[3:], "n", "EM", "F1", "cite", "R@1", "R@5"),
                              [(k, v["n"], _fmt(v["em"]), _fmt(v["f1"]), _fmt(v["citation_accuracy"]),
                                _fmt(v["retrieval"]["recall@1"], "frac"), _fmt(v["retrieval"]["recall@5"], "frac"))
                               for k, v in table.items()]))
    if result.get("misses_by_reason"):
        out += ["", "misses: " + ", ".join(f"{k} {v}" for k, v in result["misses_by_reason"].items())]
    if sysinfo["mode"] == "url" and not result["retrieval_only"]:
        out += ["", URL_SWEEP_NOTE]
    out += [f"warning: {w}" for w in result.get("warnings", [])]
    return "\n".join(out)


def format_comparison(diff: dict) -> str:
    out = []
    for w in diff["warnings"]:
        out.append(f"warning: {w}")
    rows = []
    for row in diff["metrics"]:
        frac = row["metric"].startswith("retrieval.")
        if row["metric"].endswith("threshold"):
            kind, delta = "g", "-" if row["delta"] is None else f"{row['delta']:+.3g}"
        else:
            kind = "frac" if frac else "ms" if row["metric"].startswith("latency") else "pct"
            delta = "-" if row["delta"] is None else (f"{row['delta']:+.3f}" if frac else f"{row['delta']:+.1f}")
        rows.append((row["metric"], _fmt(row["old"], kind), _fmt(row["new"], kind), delta, row["verdict"]))
    out.append(_table(("metric", "old", "new", "change", ""), rows, left=(0, 4)))
    if diff["questions"]:
        out += ["", f"{len(diff['questions'])} of {diff['shared']} questions changed answer:"]
        order = {"broken": 0, "worse": 1, "fixed": 2, "better": 3, "changed": 4}
        for q in sorted(diff["questions"], key=lambda q: order[q["kind"]]):
            out.append(f"  {q['kind']:>7}  {q['id']}  {q['question'][:40]}")
            out.append(f"           {q['old'] or '(no answer)'} (F1 {q['old_f1']:.2f}) -> "
                       f"{q['new'] or '(no answer)'} (F1 {q['new_f1']:.2f}); gold {' | '.join(q['gold']) or '(none)'}")
    if diff["ranks"]:
        moved = diff["ranks"]
        up = sum(1 for q in moved if (q["new_rank"] or 99) < (q["old_rank"] or 99))
        out += ["", f"gold passage rank changed for {len(moved)} questions ({up} up, {len(moved) - up} down)"]
    out += ["", f"verdict: {diff['verdict']}"]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The `qa eval` command


def _read_result(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvalError(f"{path}: no such file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EvalError(f"{path}: not a JSON result of `qa eval --json` ({exc})") from exc
    if not isinstance(data, dict) or "metrics" not in data:
        raise EvalError(f"{path}: not a result of `qa eval --json` (no 'metrics')")
    return data


def run_eval_command(args, settings: Settings) -> int:
    """`qa eval`: evaluate a data set (or compare two results) and print/write what was asked."""
    if args.compare:
        diff = compare(_read_result(args.compare[0]), _read_result(args.compare[1]))
        _emit(json.dumps(diff, ensure_ascii=False, indent=2) if args.json else format_comparison(diff))
        return 0
    if args.dataset is None:
        raise EvalError("give a DATASET to evaluate, or --compare OLD.json NEW.json")
    if args.limit is not None and args.limit < 1:
        raise EvalError(f"--limit must be at least 1 (got {args.limit})")
    questions = load_dataset(args.dataset)
    if args.limit:
        questions = questions[: args.limit]
    progress = sys.stderr.isatty() and not os.environ.get("TQDM_DISABLE")
    if args.url:
        system = HttpBackend(args.url, settings.read_k)
    elif dataset_format(args.dataset) == "squad" and not getattr(args, "corpus", None):
        system = squad_pipeline(args.dataset, settings, args.index_dir, with_reader=not args.retrieval_only,
                                progress=progress)
    else:
        from qa.pipeline import Pipeline

        ensure_index(settings, progress=progress)
        system = Pipeline(settings).load(with_reader=not args.retrieval_only)
    result = evaluate(system, questions, retrieval_only=args.retrieval_only, progress=progress,
                      threshold=settings.no_answer_threshold)
    result["dataset"] = {**dataset_info(args.dataset, questions), **result["dataset"]}
    if args.limit:
        result["dataset"]["limit"] = args.limit
    if not args.retrieval_only and args.dataset.name in (result["system"].get("reader_training_data") or []):
        result["warnings"] = [
            f"the reader was trained on {args.dataset.name} (all but its held-out articles): answer accuracy here "
            "is optimistic and not comparable to published results; retrieval metrics are unaffected"
        ]
    text = json.dumps(result, ensure_ascii=False, indent=2)
    try:
        if args.output:
            _write_text(args.output, text + "\n")
            print(f"result written to {args.output}", file=sys.stderr)
        if args.report:
            from qa.report import write_report

            write_report(result, args.report)
            print(f"report written to {args.report}", file=sys.stderr)
    except OSError as exc:
        raise EvalError(f"cannot write {exc.filename or 'the output'}: {exc.strerror or exc}") from exc
    _emit(text if args.json else format_summary(result))
    return 0


def _emit(text: str) -> None:
    """Print to stdout; a reader that stops early (`| head`) is not an error worth a traceback."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _write_text(path: Path, text: str) -> None:
    """Written to a temporary name and renamed, so a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
