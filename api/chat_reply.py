"""An AskResult as a chat message: readable text with a citation marker and sources for people, and
citation annotations for programs (the OpenAI-compatible route; the shapes are in api/openai_schemas.py)."""

from __future__ import annotations

from typing import Literal

from api.openai_schemas import Annotation, Citation
from qa.script import script_of
from qa.serialize import answer_dict
from qa.text import has_cjk
from qa.types import AskResult, Passage

Language = Literal["zh-Hant", "zh-Hans", "en"]
CLOSEST = 3  # passages offered when there is no answer, as the widget does
EXCERPT_CHARS = 80  # of each closest passage
# the widget's sentences (api/static/widget.js), so both interfaces say the same
NO_ANSWER: dict[Language, str] = {
    "zh-Hant": "文件中似乎沒有這個問題的答案。以下是最接近的段落,供您自行閱讀:",
    "zh-Hans": "文档中似乎没有这个问题的答案。以下是最接近的段落,供您自行阅读:",
    "en": "The document does not seem to answer this. These are the closest passages to read:",
}

UNMATCHED: dict[Language, str] = {  # the numbers a question names that no passage found holds
    "zh-Hant": "(找到的段落都沒有提到 {}。)",
    "zh-Hans": "(找到的段落都没有提到 {}。)",
    "en": "(No passage found mentions {}.)",
}


def language_of(question: str) -> Language:
    """English without Chinese characters; else Simplified or, by default, Traditional (the report's script)."""
    if not has_cjk(question):
        return "en"
    return "zh-Hans" if script_of(question) == "simplified" else "zh-Hant"


def _label(passage: Passage) -> str:
    """How the text cites a passage: ¶121, 專欄: <title>, or the passage id (footnotes, a user's ids)."""
    if passage.paragraph is not None:
        return f"¶{passage.paragraph}"
    if passage.box:
        return f"專欄: {passage.box}"
    return passage.id


def _quote(passage: Passage, text: str, start: int) -> str:
    """`text` (found at `start` in the passage) on one line, with … where the passage goes on."""
    before = "…" if start > 0 else ""
    after = "…" if start + len(text) < len(passage.text) else ""
    return f'"{before}{" ".join(text.split())}{after}"'


def _source(passage: Passage, quote: str) -> str:
    section = f" ({passage.section})" if passage.section else ""
    return f"{_label(passage)}{section} {quote}"


def compose_reply(result: AskResult) -> tuple[list[str], list[Annotation]]:
    """The message content in pieces (streamed in this order; joined for a plain reply) and its annotations.

    An answer: `3300萬人 [¶121]`, a blank line, `Sources: ¶121 (section) "…context…"`; the annotation's
    start_index/end_index point at the answer in the joined text. No answer: the honest sentence in the
    question's language and the closest passages, without annotations.
    """
    if result.no_answer or not result.answers:
        closest = [h.passage for h in result.hits[:CLOSEST]]
        language = language_of(result.question)
        text = NO_ANSWER[language]
        if result.unmatched_numbers:
            text += "\n" + UNMATCHED[language].format(", ".join(result.unmatched_numbers))
        if closest:
            text += "\n\n" + "\n".join(f"- {_source(p, _quote(p, p.text[:EXCERPT_CHARS], 0))}" for p in closest)
        return [text], []
    best = result.answers[0]
    found = answer_dict(best)
    citation = Citation(passage_id=found.pop("id"), **found, start_index=0, end_index=len(best.text))
    head = f"{best.text} [{_label(best.passage)}]"
    sources = f"\n\nSources: {_source(best.passage, _quote(best.passage, best.context, found['context_start']))}"
    return [head, sources], [Annotation(citation=citation)]
