"""Text folding shared by the keyword index and its queries.

Folding both sides Traditional -> Simplified (OpenCC `t2s`) matched better on the report than
`s2t`, which produces variant characters (祕, 羣) the report does not use.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from qa.types import InputError

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Width (NFKC), case and script folding: the form both index and query are matched in."""
    return _t2s().convert(unicodedata.normalize("NFKC", text).lower())


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


# ASCII and full-width punctuation the CMRC 2018 script strips, plus a few the report uses.
_PUNCT = set(
    "-:_*^/\\~`+=,.!?;'\"()[]{}<>@#$%&|"
    "，。：？！“”；’‘《》、「」（）『』…【】〈〉——～·｀－＿＊＾／＼＋＝｛｝＜＞＠＃＄％＆｜"
)


def is_punct(ch: str) -> bool:
    return ch in _PUNCT or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str) -> str:
    """Fold width (NFKC), lower-case, drop whitespace and punctuation: the form answers are
    compared in (duplicate answers, feedback, and the CMRC exact-match metric)."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if not ch.isspace() and not is_punct(ch))


class QuestionError(InputError):
    """The question can't be asked as given (empty, too long); the message says why."""

    def __init__(self, message: str, field: str | None = "question") -> None:
        super().__init__(message, field)


def clean_question(text: str) -> str:
    """Collapse whitespace (including full-width spaces) and trim."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def check_question(question: str | None, max_chars: int) -> str:
    """The one question validator (CLI, /v1/ask, /v1/ask/stream, /v1/search): the cleaned question,
    or QuestionError saying what is wrong."""
    cleaned = clean_question(question or "")
    if not cleaned:
        raise QuestionError("the question is empty")
    if len(cleaned) > max_chars:
        raise QuestionError(f"the question is {len(cleaned)} characters long; the limit is {max_chars}")
    return cleaned


_SENTENCE_END = re.compile(r"(?<=[。;；!?！？\n])")


def split_sentences(text: str) -> list[str]:
    """Sentences (ending punctuation kept); a text without any gives itself."""
    parts = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    return parts or [text]
