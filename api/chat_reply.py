"""An AskResult as a chat message: readable text with a citation marker and sources for people, and
citation annotations for programs (the OpenAI-compatible route; the shapes are in api/openai_schemas.py)."""

from __future__ import annotations

from api.openai_schemas import Annotation, Citation
from qa.present import answer_dict, language_of, marker, no_answer_message, reply_line
from qa.types import AskResult, Passage

CLOSEST = 3  # passages offered when there is no answer, as the widget does
EXCERPT_CHARS = 80  # of each closest passage


def _quote(passage: Passage, text: str, start: int) -> str:
    """`text` (found at `start` in the passage) on one line, with … where the passage goes on."""
    before = "…" if start > 0 else ""
    after = "…" if start + len(text) < len(passage.text) else ""
    return f'"{before}{" ".join(text.split())}{after}"'


def _source(passage: Passage, quote: str, with_file: bool, page: int | None = None) -> str:
    section = f" ({passage.section})" if passage.section else ""
    return f"{marker(passage, with_file, page)}{section} {quote}"


def compose_reply(result: AskResult) -> tuple[list[str], list[Annotation]]:
    """The message content in pieces (streamed in this order; joined for a plain reply) and its annotations.

    An answer: `3300萬人 [¶121]`, a blank line, `Sources: ¶121 (section) "…context…"`; the annotation's
    start_index/end_index point at the answer in the joined text. No answer: the honest sentence in the
    question's language and the closest passages, without annotations.
    """
    if result.no_answer or not result.answers:
        closest = [h.passage for h in result.hits[:CLOSEST]]
        text = no_answer_message(result) or ""
        if closest:
            text += "\n\n" + "\n".join(f"- {_source(p, _quote(p, p.text[:EXCERPT_CHARS], 0), result.cite_files)}"
                                       for p in closest)
        return [text], []
    best = result.answers[0]
    found = answer_dict(best, language_of(result.question), result.cite_files)
    citation = Citation(passage_id=found.pop("id"), label=found.pop("citation"), **found, start_index=0,
                        end_index=len(best.text))
    page = best.passage.page_at(best.start)
    head = reply_line(result)
    quote = _quote(best.passage, best.context, found["context_start"])
    sources = f"\n\nSources: {_source(best.passage, quote, result.cite_files, page)}"
    return [head, sources], [Annotation(citation=citation)]
