"""Follow-up questions without a language model: whether a question depends on the conversation before it, and the
question it stands for.

A follow-up leaves out what the conversation already said: "那流離失所的呢?" (ellipsis: only the new slot), "它是哪一年
成立的?" (a pronoun), "預算是多少?" (no subject). It is recognised by its cues (那…呢, What about …, a pronoun or
demonstrative, "it", "they", "there") or by being too short to stand alone; a question with none of them is either a
topic shift or a follow-up that does not name its subject ("一共培訓了多少人?"), and retrieval tells them apart
(qa/retrieval/followup.py). A follow-up is completed from the previous question as the
conversation resolved it: what the follow-up replaces is swapped in (a year for a year, a name for a name), and
otherwise the previous question's words are given beside it, as the English bridge gives the passage's words
(qa/language/bridge.py). The previous answer is kept to find the passage it came from (`answer_markers`,
`answer_span`): retrieval gives that passage and its neighbours a prior.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.language.text import has_cjk, normalize_answer
from qa.types import Turn

_TRAILING = "?？!！。.,，;； "
# a follow-up's own cues: it opens with 那/而/還有 or closes with 呢, or English "and"/"what about"
_OPENERS_ZH = re.compile(r"^(?:那麼|那么|那|而且|而|還|还|另外|至於|至于|以及|同樣|同样|又)")
_CLOSER_ZH = re.compile(r"呢[?？!！。\s]*$")
_OPENERS_EN = re.compile(r"^(?:and|also|what about|how about|what of|and what about|and how about|so)\b", re.I)
# a pronoun or demonstrative standing for something said before (at the start, or as the subject after a comma)
_PRONOUN_ZH = re.compile(r"(?:^|[,，、])(?:它們|它们|他們|他们|她們|她们|它|他|她|其|該|该|此|這些|这些|這個|这个|"
                         r"這項|这项|這一|这一|這|这|那些|那個|那个|上述|前述|同年|當年|当年|同期)"
                         r"|它們|它们|它|(?<![應应])[該该](?=[\u3400-\u9fff])")
_PRONOUN_EN = re.compile(r"\b(?:it|its|they|them|their|theirs|this|that|these|those|there|he|she|his|her|the same|"
                         r"the year before|the previous year|the following year|that year|the latter|the former)\b",
                         re.I)
_ELLIPSIS_ZH = re.compile(r"^(?:那麼|那么|那|而|還有|还有|至於|至于)?(?P<slot>.+?)呢[?？!！。\s]*$")
_ELLIPSIS_EN = re.compile(r"^(?:and |so )?(?:what|how) about (?P<slot>.+?)[?.!\s]*$|^and (?P<slot2>.+?)[?.!\s]*$",
                          re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"(?:19|20)\d\d")
_NAME_EN = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][\w'-]*(?:\s+(?:of|the|and|for|de)?\s*[A-Z][\w'-]*)*")
_WHERE_WHEN = re.compile(r"哪裡|哪里|何處|何处|在哪|何時|何时|什麼時候|什么时候|哪一年|哪年|哪一天|多少|幾|几|"
                         r"\b(?:where|when|how many|how much|what year)\b", re.I)
_IT_ZH = re.compile(r"它們|它们|它|(?<=^)其|(?<=^)他們|(?<=^)他们")
_IT_EN = re.compile(r"\b(?:it|its|they|them|their)\b", re.I)
_MARKER = re.compile(r"¶\s*(\d{1,4})|第\s*(\d{1,4})\s*段|paragraph\s+(\d{1,4})", re.I)
SHORT_CJK = 7  # a Chinese question of this many characters or fewer rarely stands alone
# a Chinese question without cues this long names its own subject: the dev conversations' topic shifts have 13 to 30
# characters, their cue-less follow-ups 8 to 15 (one of 15)
LONG_CJK = 13
SHORT_ANSWER = 16  # a previous answer this short (normalised) is a span: one containing it only repeats it
SHORT_WORDS = 4


@dataclass(frozen=True)
class Resolution:
    """A question with the conversation before it: whether it follows on, and the question it stands for."""

    question: str  # as asked
    resolved: str  # the question to retrieve and read with (the question itself when it stands alone)
    follows: bool
    certain: bool = True  # False: no cue either way (a complete question that may lack its subject): retrieval decides
    previous: str | None = None  # the previous question, as the conversation resolved it
    answer: str | None = None  # the previous assistant message, as sent
    earlier: tuple[str, ...] = ()  # the assistant messages before that one

    @property
    def answer_markers(self) -> list[int]:
        """Paragraph numbers the previous answer cited (¶121, 第121段)."""
        return [int(next(g for g in m.groups() if g)) for m in _MARKER.finditer(self.answer or "")]

    @property
    def answer_span(self) -> str:
        """The previous answer without its markers and sources: to find the passage it quotes."""
        return answer_text(self.answer) if self.answer else ""

    @property
    def answer_quote(self) -> str:
        """The longest run of the previous answer that can be a quote of the document: no English words (an
        English sentence around a Chinese span: "56000多名年輕人 were reached")."""
        runs = re.findall(r"[^A-Za-z]+", self.answer_span)
        return max((r.strip(_TRAILING + "\"'“”") for r in runs), key=len, default="")

    def repeats(self, text: str) -> bool:
        """Whether an answer repeats one the conversation gave: part of one, all of a short one, or a figure (not a
        year) of the last: a follow-up asks for something else."""
        found = normalize_answer(text)
        if not self.follows or not found:
            return False
        for answer in (self.answer_span, *map(answer_text, self.earlier)):
            given = normalize_answer(answer)
            if len(given) >= 2 and (found in given or (len(given) <= SHORT_ANSWER and given in found)):
                return True
        figures = {n for n in _NUMBER.findall(self.answer_span) if not _YEAR.fullmatch(n) and len(n) >= 2}
        return any(n in _NUMBER.findall(text) for n in figures)


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
    """Whether the question shows it leaves out what the conversation said: its cues, a pronoun, or too short to
    stand alone. A question without any may still lack its subject ("一共培訓了多少人?"): see `resolve`."""
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


def _name_in(answer: str) -> str | None:
    """The name an answer gives, when it can stand for "it": the answer itself when short and not a figure, or a
    quoted name in a sentence (「非洲對話系列」, 《…》)."""
    span = answer_text(answer)
    quoted = re.search(r"[「《『“][^」》』”]{2,30}[」》』”]", span)
    if 2 <= len(span) <= 30 and not _NUMBER.match(span) and not re.search(r"[。,，;；!?！？]|\s\w+\s\w+\s", span):
        return span
    return quoted.group() if quoted else None


def _antecedent(exchanges: list[tuple[str, str | None]]) -> str | None:
    """What "it" stands for: the most recent answer that names something (a place or time asked with where or when
    is no antecedent), else a name the last question gives in English (Where was COP27 held? -> COP27)."""
    for question, answer in reversed(exchanges[-3:]):
        if answer and not _WHERE_WHEN.search(question) and (name := _name_in(answer)):
            return name
    last = exchanges[-1][0] if exchanges else ""
    names = [m.group() for m in _NAME_EN.finditer(last)] if not has_cjk(last) else []
    return names[0] if names else None


def _replace_pronoun(question: str, name: str) -> str | None:
    """The question with its "it" (它, it, they) replaced by `name`; None when it has no such pronoun."""
    if has_cjk(question):
        match = _IT_ZH.search(question)
        if match is None:
            return None
        possessive = "的" if match.group() == "其" else ""
        return question[:match.start()] + name + possessive + question[match.end():]
    match = _IT_EN.search(question)
    if match is None:
        return None
    possessive = "'s" if match.group().lower() in ("its", "their") else ""
    return question[:match.start()] + name + possessive + question[match.end():]


def complete(question: str, exchanges: list[tuple[str, str | None]]) -> str:
    """The follow-up written out, from the conversation's exchanges (each question as resolved, and its answer):
    the previous question with the new slot in it, or its "it" replaced by what it stands for; else the follow-up
    with the previous question's words beside it."""
    previous = exchanges[-1][0]
    slot = _slot(question)
    if slot is not None:
        swapped = _substitute(previous, slot)
        if swapped is not None:
            return swapped
    name = _antecedent(exchanges)
    if name is not None:
        replaced = _replace_pronoun(question.strip(), name)
        if replaced is not None:
            return replaced
    return f"{question.strip()} ({previous.strip(_TRAILING)})"


def resolve(question: str, history: list[Turn]) -> Resolution:
    """The question with the conversation before it (OpenAI-shaped turns, oldest first). Each earlier user turn is
    resolved against the ones before it, so a third follow-up in a row still knows the topic."""
    exchanges: list[tuple[str, str | None]] = []  # (question as resolved, the answer given)
    for turn in history:
        if turn.role == "user":
            text = turn.content.strip()
            exchanges.append((complete(text, exchanges) if exchanges and follows_on(text) else text, None))
        elif turn.role == "assistant" and exchanges:
            exchanges[-1] = (exchanges[-1][0], turn.content)
    if not exchanges:
        return Resolution(question, question, False)
    if not follows_on(question) and has_cjk(question) and _cjk_length(question) >= LONG_CJK:
        return Resolution(question, question, False, True, exchanges[-1][0], exchanges[-1][1])
    certain = follows_on(question)  # else a complete question: a topic shift, or a follow-up without its subject
    earlier = tuple(answer for _, answer in exchanges[:-1] if answer)
    return Resolution(question, complete(question, exchanges), True, certain, exchanges[-1][0], exchanges[-1][1],
                      earlier)
