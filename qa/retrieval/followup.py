"""Retrieval for a follow-up question: the completed question and the follow-up as asked are both searched and their
fused scores mixed (the completed one carries the topic, the follow-up what is new), and the passage the previous
answer came from gets a prior: a follow-up mostly asks about the same passage or the one beside it."""

from __future__ import annotations

from dataclasses import replace

from qa.language.followup import Resolution
from qa.retrieval.hybrid import HybridRetriever
from qa.storage.base import PassageStore
from qa.types import Hit, Passage

POOL = 20  # hits of each query mixed
RELATED = 3


def previous_passages(store: PassageStore, resolution: Resolution, documents: list[str] | None) -> list[Passage]:
    """The passages the previous answer came from: those its markers name (¶121), else those holding its text."""
    found = [p for n in resolution.answer_markers if (p := store.find(paragraph=n)) is not None]
    span = resolution.answer_quote
    if not found and len(span) >= 2:
        ids = [pid for pid, _ in store.search_keywords(span, 10, documents)]
        found = [p for p in store.fetch(ids) if span in p.text]
    return [p for p in found if documents is None or (p.document and p.document.id in documents)][:3]


def search_followup(retriever: HybridRetriever, resolution: Resolution, k: int, documents: list[str] | None,
                    completed_weight: float, prior: float) -> tuple[list[Hit], Resolution]:
    """The k best passages for a follow-up: completed weight x the completed question's fused score + the rest x
    the follow-up's (a passage one query did not find scores that query's lowest), + `prior` for the previous
    answer's passage; and the resolution, decided where the question showed no cue either way (`_related`)."""
    pool = max(k, POOL)
    completed = retriever.search(resolution.resolved, pool, documents)
    alone = retriever.search(resolution.question, pool, documents)
    cited = {p.id for p in previous_passages(retriever.index, resolution, documents)}
    if not resolution.certain and not _related(alone, completed, cited):
        return alone[:k], replace(resolution, resolved=resolution.question, follows=False, certain=True)
    floor_c = min((h.score for h in completed), default=0.0)
    floor_a = min((h.score for h in alone), default=0.0)
    by_id = {h.passage.id: h for h in alone} | {h.passage.id: h for h in completed}
    score_c = {h.passage.id: h.score for h in completed}
    score_a = {h.passage.id: h.score for h in alone}
    mixed = {pid: completed_weight * score_c.get(pid, floor_c) + (1 - completed_weight) * score_a.get(pid, floor_a)
             + (prior if pid in cited else 0.0) for pid in by_id}
    ranked = sorted(by_id, key=lambda pid: mixed[pid], reverse=True)[:k]
    return [replace(by_id[pid], score=mixed[pid]) for pid in ranked], replace(resolution, certain=True)


def _related(alone: list[Hit], completed: list[Hit], cited: set[str]) -> bool:
    """Whether a question with no cue either way follows on: asked alone it finds the previous answer's passage
    among its first RELATED hits, or the completed question finds another passage first, and more surely."""
    if any(h.passage.id in cited for h in alone[:RELATED]):
        return True
    if not completed or not alone:
        return bool(completed)
    return completed[0].passage.id != alone[0].passage.id and completed[0].score > alone[0].score
