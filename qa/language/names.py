"""Proper names a Chinese question names, and whether a passage holds them.

A question the document does not answer is often one about a place or body the passage near its topic never names
("去年新上網的4億多用戶當中,有多少來自非洲?" finds the paragraph on 4億多 new users, which says nothing of Africa), and
there the reader is sure of the figure the passage does give. So, as a passage lacking a number the question names is
not read (qa/language/numbers.py), neither is one lacking a name it names.

Names are CC-CEDICT's proper nouns (capitalised pinyin: 非洲, 哥倫比亞, 敘利亞) that are not also common words (時代,
成功), found by segmenting the question over the whole dictionary (fewest words, then fewest single characters), so
"中國城市" reads 中國 + 城市, not the name 中國城. A name is held by a passage that has it, or another spelling of the
same place (衣索比亞 = 埃塞俄比亞: the same first English gloss), in either script, in its text or its headings.
A name the corpus's passages share widely is its subject (聯合國 in a quarter or more of the UN report): passages
leave it unsaid, so it is not asked of them (`SUBJECT_SHARE`).
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from qa.language.bridge import cedict_entries
from qa.language.text import fold

MAX_WORD = 12  # characters in the longest dictionary word the segmenter tries
# passages holding a name, as a share of the corpus's, above which it is the corpus's subject: the report's 聯合國 is in
# 44% of its passages, 非洲 (a name its unanswerable questions turn on) in 12%; chosen between them on the report alone
SUBJECT_SHARE = 0.25


class Name(NamedTuple):
    key: str  # the name as the question writes it, folded (t2s, lower case)
    forms: tuple[str, ...]  # every spelling that counts, folded: the name and the dictionary's other names for it


class _Dictionary(NamedTuple):
    words: frozenset[str]  # every CC-CEDICT headword, folded
    names: dict[str, tuple[str, ...]]  # a proper noun (2+ characters, not also a common word) -> its forms


@cache
def load_names() -> _Dictionary:
    """CC-CEDICT's headwords and proper nouns, folded (~2 s once; cached)."""
    words: set[str] = set()
    common: set[str] = set()
    glosses: dict[str, set[str]] = {}  # a proper noun -> its first English glosses
    by_gloss: dict[str, set[str]] = {}
    for traditional, simplified, name, phrases in cedict_entries():
        for word in {fold(traditional), fold(simplified)}:
            words.add(word)
            if not name:
                common.add(word)
            elif len(word) >= 2 and phrases:
                glosses.setdefault(word, set()).add(phrases[0])
                by_gloss.setdefault(phrases[0], set()).add(word)
    names = {}
    for word, firsts in glosses.items():
        if word not in common:
            same = {other for gloss in firsts for other in by_gloss[gloss]}
            names[word] = (word, *sorted(same - {word}))
    return _Dictionary(frozenset(words), names)


def segment(text: str) -> list[str]:
    """`text` cut into dictionary words (a character outside any stands alone): the fewest words, then the fewest
    single characters."""
    words = load_names().words
    n = len(text)
    cost: list[tuple[int, int] | None] = [(0, 0)] + [None] * n
    back = [0] * (n + 1)
    for end in range(1, n + 1):
        for start in range(max(0, end - MAX_WORD), end):
            if end - start > 1 and text[start:end] not in words:
                continue
            here = cost[start]
            candidate = (here[0] + 1, here[1] + (end - start == 1))
            if cost[end] is None or candidate < cost[end]:
                cost[end], back[end] = candidate, start
    out, end = [], n
    while end:
        out.append(text[back[end]:end])
        end = back[end]
    return out[::-1]


def question_names(question: str) -> list[Name]:
    """The proper names the question names, each once, in order."""
    names = load_names().names
    found = dict.fromkeys(word for word in segment(fold(question)) if word in names)
    return [Name(word, names[word]) for word in found]


def missing_names(names: list[Name], text: str) -> list[Name]:
    """Those of `names` that `text` does not hold."""
    folded = fold(text)
    return [name for name in names if not any(form in folded for form in name.forms)]
