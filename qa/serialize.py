"""The JSON shapes of results, shared by `qa --json` and the HTTP API (README, "HTTP API")."""

from __future__ import annotations

from qa.types import Answer, AskResult, Hit, Passage


def passage_dict(passage: Passage) -> dict:
    return passage.to_dict()


def hit_dict(hit: Hit) -> dict:
    return {
        **passage_dict(hit.passage),
        "score": round(hit.score, 4),
        "dense_score": None if hit.dense_score is None else round(hit.dense_score, 4),
        "sparse_score": None if hit.sparse_score is None else round(hit.sparse_score, 4),
        "dense_rank": hit.dense_rank,
        "sparse_rank": hit.sparse_rank,
    }


def answer_dict(answer: Answer) -> dict:
    p = answer.passage
    return {
        "text": answer.text,
        "score": float(f"{answer.score:.4g}"),  # significant digits: an English answer's may be 1e-6
        "id": p.id,
        "paragraph": p.paragraph,
        "box": p.box,
        "section": p.section,
        "start": answer.start,
        "end": answer.end,
        "context": answer.context,
        "context_start": p.text.find(answer.context),
    }


def ask_response(result: AskResult) -> dict:
    return {
        "question": result.question,
        "no_answer": result.no_answer,
        "answers": [answer_dict(a) for a in result.answers],
        "passages": [hit_dict(h) for h in result.hits],
        "timings_ms": result.timings_ms,
        "tokens_read": result.tokens_read,
        "unmatched_numbers": result.unmatched_numbers,
    }


def search_response(question: str, hits: list[Hit]) -> dict:
    return {"question": question, "passages": [hit_dict(h) for h in hits]}
