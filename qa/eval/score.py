"""Scoring a question set: ask every question, one at a time, record each outcome, and sum the
records up into the metrics of docs/EVAL.md (EM/F1, no-answer accuracy, the best threshold,
citation accuracy, Recall@k, MRR@10, latency; by question type and script) and the reasons for
the misses. `evaluate()` returns one JSON-ready dict: what `qa eval --json` prints.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from qa.config import Settings
from qa.eval.backends import RETRIEVE_K, Backend, PipelineBackend, Response
from qa.eval.calibration import answer_scores, best_threshold, prediction_at, sweep_grid, threshold_summary
from qa.eval.metrics import exact_match, f1_score
from qa.eval.questions import EvalError, EvalQuestion
from qa.reading.confidence import Calibration, calibration_for

RESULT_VERSION = 1
RECALL_KS = (1, 3, 5, 10)
TYPE_ORDER = ("number", "date", "entity", "place", "phrase", "why/how", "ellipsis", "pronoun",
              "same-topic-other-detail", "topic-shift", "unanswerable")
SCRIPT_ORDER = ("traditional", "simplified", "english", "mixed")


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

    `pipeline` is a Pipeline (asked in-process with a per-call no-answer threshold of 0, so the
    sweep sees every score; its settings are not changed) or a Backend such as HttpBackend.
    `threshold` is the no-answer threshold the headline numbers use (default: the pipeline's
    configured one for each question's language)."""
    from tqdm.auto import tqdm

    if not questions:
        raise EvalError("no questions to evaluate")
    backend = _as_backend(pipeline)
    calibration = _calibration(pipeline)
    per_question = calibration.threshold_for if threshold is None else None
    if threshold is None:
        threshold = calibration.no_answer_threshold
    raw: list[tuple[EvalQuestion, Response]] = []
    backend.prepare(retrieval_only, questions[0].question)
    try:
        for q in tqdm(questions, desc="qa eval", unit="q", file=sys.stderr, disable=not progress, dynamic_ncols=True):
            raw.append((q, backend.search(q.question) if retrieval_only else backend.ask(q.question, q.history)))
    finally:
        backend.close()
    # a follow-up is withheld by the threshold of the question it was resolved to (its script may differ)
    records = [question_record(q, r, per_question(r.resolved or q.question) if per_question else threshold,
                               backend.read_k, retrieval_only) for q, r in raw]
    standalone = _standalone(backend, [q for q in questions if q.history and q.standalone], per_question, threshold,
                             progress) if not retrieval_only else None
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
            **({"non_cjk_no_answer_threshold": calibration.non_cjk_no_answer_threshold} if per_question else {}),
            "machine": machine_info(getattr(getattr(pipeline, "settings", None), "threads", None)),
        },
        "units": {"em, f1, accuracy": "percent", "recall, mrr": "fraction of answerable questions with a gold passage",
                  "latency": "milliseconds per question, one at a time, after one warm-up question"},
        **summarise(records, threshold, backend.read_k, retrieval_only),
        **({"standalone": standalone} if standalone else {}),
        "questions": [{k: v for k, v in r.items() if not k.startswith("_")} for r in records],
    }
    return result


def _standalone(backend: Backend, questions: Sequence[EvalQuestion], per_question, threshold: float,
                progress: bool) -> dict | None:
    """A conversation's follow-ups written out in full and asked alone: F1 by kind, beside the follow-ups'."""
    from tqdm.auto import tqdm

    if not questions:
        return None
    records = []
    for q in tqdm(questions, desc="written in full", unit="q", file=sys.stderr, disable=not progress,
                  dynamic_ncols=True):
        alone = replace(q, question=q.standalone, history=())
        response = backend.ask(alone.question)
        records.append(question_record(alone, response, per_question(alone.question) if per_question else threshold,
                                       backend.read_k, False))
    at = threshold_summary(records, None)
    return {"n": len(records), "f1": at["f1"], "em": at["em"],
            "by_type": {k: {"n": v["n"], "f1": v["f1"]} for k, v in
                        _breakdown(records, "type", TYPE_ORDER, False).items()}}


def _calibration(system) -> Calibration:
    """The no-answer thresholds the system answers with: a loaded pipeline's own; over HTTP, assumed the same as
    the reader configured here."""
    if getattr(system, "calibration", None) is not None:
        return system.calibration
    return calibration_for(getattr(system, "settings", None) or Settings())


def question_record(q: EvalQuestion, resp: Response, threshold: float, read_k: int, retrieval_only: bool) -> dict:
    """One question's outcome: gold rank, what was retrieved, and (unless retrieval only) the answer
    at `threshold`, its EM/F1, whether it cites the gold passage, and why it was missed."""
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
    rec["threshold"] = threshold
    prediction = prediction_at(rec, threshold)
    rec["prediction"] = prediction
    rec["em"], rec["f1"] = answer_scores(rec, threshold)
    gradable = q.answerable and q.gold is not None
    rec["citation_correct"] = (bool(prediction) and q.matches(resp.cited)) if gradable else None
    rec["cited_document"] = resp.cited.file if resp.cited else None
    rec["cited_page"] = resp.cited.page if resp.cited else None
    # the top answer's document and page, graded whether or not it is shown (`_share` splits the two)
    rec["document_correct"] = q.cites_document(resp.cited) if q.answerable and q.document else None
    rec["page_correct"] = q.cites_page(resp.cited) if q.answerable and q.page else None
    rec["reason"], rec["why"] = miss_reason(rec, read_k)
    rec["miss"] = rec["reason"] is not None
    return rec


def summarise(records: Sequence[dict], threshold: float, read_k: int, retrieval_only: bool = False) -> dict:
    """Aggregate per-question records into the metrics of docs/EVAL.md (pure: unit-tested)."""
    ranks = [r["gold_rank"] for r in records if r["answerable"] and r["gold"] is not None]
    latencies = [r["latency_ms"] for r in records if r.get("latency_ms") is not None]
    server = [r["timings_ms"]["total"] for r in records if (r.get("timings_ms") or {}).get("total") is not None]
    metrics: dict[str, Any] = {}
    out: dict[str, Any] = {"metrics": metrics}
    if not retrieval_only:
        at = threshold_summary(records, None)  # each question at its own configured threshold
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
            answerable_withheld=at["answerable_withheld"],
            answered_accuracy=at["answered_accuracy"],
            citation_accuracy=100.0 * sum(cited) / len(cited) if cited else None,
            document_at_1=_share(records, "document_correct"),
            page_at_1=_share(records, "page_correct"),
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


def _share(records: Sequence[dict], key: str) -> dict | None:
    """Of the questions that name what `key` grades (a document, a page): the percent whose shown answer cites it
    right (`percent`, over the `n` answered), and whose answer is shown and right (`of_all`, over all of them)."""
    graded = [r for r in records if r.get(key) is not None]
    shown = [r[key] for r in graded if r["prediction"]]
    if not graded:
        return None
    return {"n": len(shown), "percent": 100.0 * sum(shown) / len(shown) if shown else None,
            "questions": len(graded), "of_all": 100.0 * sum(shown) / len(graded)}


def machine_info(threads: int | None = None) -> dict:
    """What measured the latencies (docs/EVAL.md asks to say)."""
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
