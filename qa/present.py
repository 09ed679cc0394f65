"""How an answer is presented, defined once: the citation label, the no-answer sentence and the JSON shapes of
results, in the question's language. The CLI (`qa ask`, `--json`), the HTTP API, the chat endpoint and the widget
(which shows the `citation` and `message` the server sends) all use these. A citation names the file only when
the index holds several documents."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from qa.language.script import script_of
from qa.language.text import has_cjk
from qa.types import Answer, AskResult, Hit, Passage

Language = Literal["zh-Hant", "zh-Hans", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-Hant", "zh-Hans", "en")

NO_ANSWER: dict[Language, str] = {
    "zh-Hant": "文件中似乎沒有這個問題的答案。以下是最接近的段落,供您自行閱讀:",
    "zh-Hans": "文档中似乎没有这个问题的答案。以下是最接近的段落,供您自行阅读:",
    "en": "The document does not seem to answer this. These are the closest passages to read:",
}
UNMATCHED: dict[Language, str] = {  # the numbers and names a question names that no passage found holds
    "zh-Hant": "(找到的段落都沒有提到 {}。)",
    "zh-Hans": "(找到的段落都没有提到 {}。)",
    "en": "(No passage found mentions {}.)",
}
_PARAGRAPH: dict[Language, str] = {"zh-Hant": "第{}段", "zh-Hans": "第{}段", "en": "¶{}"}
_PAGE: dict[Language, str] = {"zh-Hant": "第{}頁", "zh-Hans": "第{}页", "en": "p. {}"}
_BOX: dict[Language, str] = {"zh-Hant": "專欄:{}", "zh-Hans": "专栏:{}", "en": "Box: {}"}


def language_of(question: str) -> Language:
    """English without Chinese characters; else Simplified or, by default, Traditional (the report's script)."""
    if not has_cjk(question):
        return "en"
    return "zh-Hans" if script_of(question) == "simplified" else "zh-Hant"


def marker(passage: Passage, with_file: bool = False, page: int | None = None) -> str:
    """The short citation inside a chat reply's text: ¶121, 專欄: <title> or the passage's id, after the file and page
    where the index holds several documents (report.pdf p. 12 ¶35)."""
    if passage.paragraph is not None:
        where = f"¶{passage.paragraph}"
    elif passage.box:
        where = f"專欄: {passage.box}"
    else:
        where = passage.local_id
    page = page if page is not None else passage.page
    parts = [passage.document.file] if with_file and passage.document else []
    return " ".join([*parts, *([f"p. {page}"] if page is not None else []), where])


def citation(passage: Passage, language: Language = "zh-Hant", with_file: bool = False,
             page: int | None = None) -> str:
    """Where a passage (or an answer in it, at `page`) is, for people: 第121段 · E. 有效協調人道主義援助, or
    annual-report.pdf · p. 12 · ¶35 · Results; the file when the index holds several documents."""
    parts = [passage.document.file] if with_file and passage.document else []
    page = page if page is not None else passage.page
    if page is not None:
        parts.append(_PAGE[language].format(page))
    if passage.paragraph is not None:
        parts.append(_PARAGRAPH[language].format(passage.paragraph))
    elif passage.box:
        parts.append(_BOX[language].format(passage.box))
    elif not parts:
        parts.append(passage.local_id)
    if passage.section:
        parts.append(passage.section)
    return " · ".join(parts)


def no_answer_message(result: AskResult, language: Language | None = None) -> str | None:
    """The honest sentence for a withheld answer, with the numbers and names no passage found holds; None when
    answered."""
    if not result.no_answer:
        return None
    language = language or language_of(result.question)
    text = NO_ANSWER[language]
    if result.unmatched_numbers or result.unmatched_names:
        text += "\n" + UNMATCHED[language].format(", ".join(result.unmatched_numbers + result.unmatched_names))
    return text


def reply_line(result: AskResult) -> str:
    """The answer as one line of a conversation: `3300萬人 [¶121]`, or the no-answer sentence (what a chat shows, and
    what a follow-up's history holds)."""
    if result.no_answer or not result.answers:
        return (no_answer_message(result) or "").split("\n")[0]
    best = result.answers[0]
    return f"{best.text} [{marker(best.passage, result.cite_files, best.passage.page_at(best.start))}]"


def passage_dict(passage: Passage, language: Language = "zh-Hant", with_file: bool = False) -> dict:
    return {**passage.to_dict(), "citation": citation(passage, language, with_file)}


def hit_dict(hit: Hit, language: Language = "zh-Hant", with_file: bool = False) -> dict:
    return {
        **passage_dict(hit.passage, language, with_file),
        "score": round(hit.score, 4),
        "dense_score": None if hit.dense_score is None else round(hit.dense_score, 4),
        "sparse_score": None if hit.sparse_score is None else round(hit.sparse_score, 4),
        "dense_rank": hit.dense_rank,
        "sparse_rank": hit.sparse_rank,
    }


def answer_dict(answer: Answer, language: Language = "zh-Hant", with_file: bool = False) -> dict:
    p = answer.passage
    page = p.page_at(answer.start)
    return {
        "text": answer.text,
        "score": float(f"{answer.score:.4g}"),  # significant digits: an English answer's may be 1e-6
        "id": p.id,
        "document": None if p.document is None else asdict(p.document),
        "page": page,
        "paragraph": p.paragraph,
        "box": p.box,
        "section": p.section,
        "citation": citation(p, language, with_file, page),
        "start": answer.start,
        "end": answer.end,
        "context": answer.context,
        "context_start": p.text.find(answer.context),
    }


def ask_response(result: AskResult, language: Language | None = None) -> dict:
    """What `/v1/ask` and `qa ask --json` return; labels and message in `language`, by default the question's."""
    language = language or language_of(result.question)
    files = result.cite_files
    return {
        "question": result.question,
        "no_answer": result.no_answer,
        "message": no_answer_message(result, language),
        "resolved_question": result.resolved_question or result.question,
        "language": language,
        "answers": [answer_dict(a, language, files) for a in result.answers],
        "passages": [hit_dict(h, language, files) for h in result.hits],
        "timings_ms": result.timings_ms,
        "tokens_read": result.tokens_read,
        "unmatched_numbers": result.unmatched_numbers,
        "unmatched_names": result.unmatched_names,
    }


def search_response(question: str, hits: list[Hit], language: Language | None = None, with_file: bool = False) -> dict:
    language = language or language_of(question)
    return {"question": question, "passages": [hit_dict(h, language, with_file) for h in hits]}
