"""Follow-up questions without a language model: whether a question depends on the conversation before it, and the
question it stands for.

A follow-up leaves out what the conversation already said: "那流離失所的呢?" (ellipsis: only the new slot), "它是哪一年
成立的?" (a pronoun), "預算是多少?" (no subject). It is recognised by its cues (那…呢, What about …, a pronoun or
demonstrative at its start, "it", "they", "there") or by being too short to stand alone; a complete question with
none of them is a topic shift and stands alone. A follow-up is completed from the previous question as the
conversation resolved it: what the follow-up replaces is swapped in (a year for a year, a name for a name), and
otherwise the previous question's words are given beside it, as the English bridge gives the passage's words
(qa/language/bridge.py). The previous answer is kept to find the passage it came from (`answer_markers`,
`answer_span`): retrieval gives that passage and its neighbours a prior.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.language.text import has_cjk
from qa.types import Turn

_TRAILING = "?？!！。.,，;； "
# a follow-up's own cues: it opens with 那/而/還有 or closes with 呢, or English "and"/"what about"
_OPENERS_ZH = re.compile(r"^(?:那麼|那么|那|而且|而|還有|还有|另外|至於|至于|以及|同樣|同样)")
_CLOSER_ZH = re.compile(r"呢[?？!！。\s]*$")
_OPENERS_EN = re.compile(r"^(?:and|also|what about|how about|what of|and what about|and how about|so)\b", re.I)
# a pronoun or demonstrative standing for something said before (at the start, or as the subject after a comma)
_PRONOUN_ZH = re.compile(r"(?:^|[,，、])(?:它們|它们|他們|他们|她們|她们|它|他|她|其|該|该|此|這些|这些|這個|这个|"
                         r"這項|这项|這一|这一|這|这|那些|那個|那个|上述|前述|同年|當年|当年|同期)")
_PRONOUN_EN = re.compile(r"\b(?:it|its|they|them|their|theirs|this|that|these|those|there|he|she|his|her|the same|"
                         r"the year before|the previous year|the following year|that year|the latter|the former)\b",
                         re.I)
_ELLIPSIS_ZH = re.compile(r"^(?:那麼|那么|那|而|還有|还有|至於|至于)?(?P<slot>.+?)呢[?？!！。\s]*$")
_ELLIPSIS_EN = re.compile(r"^(?:and |so )?(?:what|how) about (?P<slot>.+?)[?.!\s]*$|^and (?P<slot2>.+?)[?.!\s]*$",
                          re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"(?:19|20)\d\d")
_NAME_EN = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][\w'-]*(?:\s+(?:of|the|and|for|de)?\s*[A-Z][\w'-]*)*")
_MARKER = re.compile(r"¶\s*(\d{1,4})|第\s*(\d{1,4})\s*段|paragraph\s+(\d{1,4})", re.I)
SHORT_CJK = 7  # a Chinese question of this many characters or fewer rarely stands alone
SHORT_WORDS = 4


@dataclass(frozen=True)
class Resolution:
    """A question with the conversation before it: whether it follows on, and the question it stands for."""

    question: str  # as asked
    resolved: str  # the question to retrieve and read with (the question itself when it stands alone)
    follows: bool
    previous: str | None = None  # the previous question, as the conversation resolved it
    answer: str | None = None  # the previous assistant message, as sent

    @property
    def answer_markers(self) -> list[int]:
        """Paragraph numbers the previous answer cited (¶121, 第121段)."""
        return [int(next(g for g in m.groups() if g)) for m in _MARKER.finditer(self.answer or "")]

    @property
    def answer_span(self) -> str:
        """The previous answer without its markers and sources: to find the passage it quotes."""
        return answer_text(self.answer) if self.answer else ""


def answer_text(content: str) -> str:
    """An assistant message without its citation markers and sources: the answer as the conversation gave it."""
    first = content.strip().split("\n", 1)[0]
    first = re.sub(r"\s*[\[(（【][^\])）】]*(?:¶|段|paragraph|p\.)[^\])）】]*[\])）】]", "", first, flags=re.I)
    return first.strip(_TRAILING + "\"'“”")


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9]+", text))


def _cjk_length(text: str) -> int:
    return sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")


def follows_on(question: str) -> bool:
    """Whether the question leaves out what the conversation said: its cues, a pronoun, or too short to stand alone."""
    q = question.strip()
    if has_cjk(q):
        if _OPENERS_ZH.match(q) or _CLOSER_ZH.search(q) or _PRONOUN_ZH.search(q):
            return True
        return _cjk_length(q) <= SHORT_CJK
    if _OPENERS_EN.match(q) or _PRONOUN_EN.search(q):
        return True
    return _words(q) <= SHORT_WORDS


def _slot(question: str) -> str | None:
    """What an elliptical follow-up gives: "那2021年呢?" -> "2021年", "What about Afghanistan?" -> "Afghanistan"."""
    q = question.strip()
    match = _ELLIPSIS_ZH.match(q) if has_cjk(q) else _ELLIPSIS_EN.match(q)
    if not match:
        return None
    slot = next(g for g in match.groups() if g)
    return slot.strip(_TRAILING) or None


def _substitute(previous: str, slot: str) -> str | None:
    """The previous question with the slot's kind replaced by it: a year for its year, a number for its number, an
    English name for its last name; None when there is nothing of that kind to replace."""
    for pattern in (_YEAR, _NUMBER):
        new = pattern.search(slot)
        old = list(pattern.finditer(previous))
        if new and old:
            last = old[-1]
            return previous[:last.start()] + new.group() + previous[last.end():]
    if not has_cjk(slot) and slot[:1].isupper():
        names = list(_NAME_EN.finditer(previous))
        if names:
            last = names[-1]
            return previous[:last.start()] + slot + previous[last.end():]
    return None


def complete(question: str, previous: str, answer: str | None) -> str:
    """The follow-up written out: the previous question with the new slot in it, else the follow-up with the
    previous question's words beside it."""
    slot = _slot(question)
    if slot is not None:
        swapped = _substitute(previous, slot)
        if swapped is not None:
            return swapped
    context = previous.strip(_TRAILING)
    return f"{question.strip()} ({context})"


def resolve(question: str, history: list[Turn]) -> Resolution:
    """The question with the conversation before it (OpenAI-shaped turns, oldest first). Each earlier user turn is
    resolved against the one before it, so a third follow-up in a row still knows the topic."""
    previous: str | None = None
    answer: str | None = None
    for turn in history:
        if turn.role == "user":
            text = turn.content.strip()
            previous = complete(text, previous, answer) if previous and follows_on(text) else text
            answer = None
        elif turn.role == "assistant":
            answer = turn.content
    if previous is None or not follows_on(question):
        return Resolution(question, question, False, previous, answer)
    return Resolution(question, complete(question, previous, answer), True, previous, answer)
