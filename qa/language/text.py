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
    """The question can't be asked as given (empty, too long, not text); the message says why."""

    def __init__(self, message: str, field: str | None = "question") -> None:
        super().__init__(message, field)


def clean_question(text: str) -> str:
    """Width folding (NFKC, which composes like NFC) and collapsed whitespace (full-width spaces too),
    trimmed: the form retrieval and the reader see."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


# a lone surrogate (JSON allows "\ud800"; argv decodes invalid UTF-8 to U+DC80-U+DCFF) is not text, and a
# control character other than whitespace (\t \n \v \f \r U+0085) is not part of a question
_NOT_TEXT = re.compile("[\ud800-\udfff\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
# combining marks stacked on one character: Vietnamese, Thai or Tibetan need at most 3 or 4; more is
# decoration (Zalgo text) that only costs the models tokens, so it is refused rather than silently cut
MAX_MARKS = 4


def _longest_mark_run(text: str) -> int:
    longest = run = 0
    for ch in text:
        run = run + 1 if unicodedata.category(ch).startswith("M") else 0
        longest = max(longest, run)
    return longest


def check_question(question: str | None, max_chars: int) -> str:
    """The one question validator (CLI, /v1/ask, /v1/ask/stream, /v1/search, chat, feedback): the cleaned
    question, or QuestionError saying what is wrong. Format characters (Unicode Cf: zero-width spaces and
    joiners, U+2060, the BOM, soft hyphens, bidi marks) are invisible, so they are dropped before cleaning.
    Messages name code points, never echo the input: it may not even be encodable."""
    text = question or ""
    bad = _NOT_TEXT.search(text)
    if bad:
        what = "an unpaired surrogate" if "\ud800" <= bad.group() <= "\udfff" else "a control character"
        raise QuestionError(f"the question contains {what} (U+{ord(bad.group()):04X} at character {bad.start() + 1}), "
                            "which is not text")
    cleaned = clean_question("".join(ch for ch in text if unicodedata.category(ch) != "Cf"))
    if all(unicodedata.category(ch).startswith("M") for ch in cleaned):
        detail = ": it has only invisible characters (zero-width, byte order marks, combining marks)"
        raise QuestionError("the question is empty" + (detail if text.strip() else ""))
    if len(cleaned) > max_chars:
        raise QuestionError(f"the question is {len(cleaned)} characters long; the limit is {max_chars}")
    marks = _longest_mark_run(cleaned)
    if marks > MAX_MARKS:
        raise QuestionError(f"the question stacks {marks} combining marks on one character; the limit is {MAX_MARKS}")
    return cleaned


_SENTENCE_END = re.compile(r"(?<=[。;；!?！？\n])")


def split_sentences(text: str) -> list[str]:
    """Sentences (ending punctuation kept); a text without any gives itself."""
    parts = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    return parts or [text]
