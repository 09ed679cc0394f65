"""Proper names a Chinese question names, and whether a passage holds them.

A question the document does not answer is often one about a place or body the passage near its topic never names
("去年新上網的4億多用戶當中,有多少來自非洲?" finds the paragraph on 4億多 new users, which says nothing of Africa), and
there the reader is sure of the figure the passage does give. So, as a passage lacking a number the question names is
not read (qa/language/numbers.py), neither is one lacking a name it names.

Names are CC-CEDICT's proper nouns (capitalised pinyin: 非洲, 哥倫比亞, 敘利亞) that are not also common words (時代,
成功), found among the words jieba cuts the question into by its dictionary's frequencies, so "中國城市" reads
中國 + 城市 (not the name 中國城) and "是非洲國家" 是 + 非洲 (not 是非). A name is held by a passage that has it, or
another spelling of the same place (衣索比亞 = 埃塞俄比亞: the same first English gloss), in either script, in its
text or its headings; a dynasty also by its one character (元朝 by 元世祖).
A name the corpus's passages share widely is its subject (聯合國 in a quarter or more of the UN report): passages
leave it unsaid, so it is not asked of them (`SUBJECT_SHARE`), nor inside another name (聯合國大會 is held by 大會).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

from qa.language.cedict import cedict_entries
from qa.language.text import fold, has_cjk

# passages holding a name, as a share of the corpus's, above which it is the corpus's subject: the report's 聯合國 is in
# 44% of its passages, 非洲 (a name its unanswerable questions turn on) in 12%; chosen between them on the report alone
SUBJECT_SHARE = 0.25


_DYNASTY = "朝代廷"  # 唐朝, 宋代, 清廷: a dynasty or its court, which text names by its one character


class Name(NamedTuple):
    key: str  # the name as the question writes it, folded (t2s, lower case)
    forms: tuple[str, ...]  # every spelling that counts, folded: the name and the dictionary's other names for it


@cache
def load_names() -> dict[str, tuple[str, ...]]:
    """CC-CEDICT's proper nouns of 2+ characters that are not also common words, folded, each with its forms; and
    jieba's dictionary loaded (~3 s once; cached)."""
    _jieba()
    common, glosses = _proper_nouns()
    by_gloss = names_by_gloss()
    names = {}
    for word, firsts in glosses.items():
        if word not in common:
            same = {other for gloss in firsts for other in by_gloss[gloss]}
            if len(word) == 2 and word[1] in _DYNASTY:
                same.add(word[0])  # 元朝 is also 元 (元世祖, 元軍)
            names[word] = (word, *sorted(same - {word}))
    return names


@cache
def names_by_gloss() -> dict[str, set[str]]:
    """CC-CEDICT's proper nouns of 2+ characters (folded) by their first English gloss ("haiti" -> {"海地"})."""
    by_gloss: dict[str, set[str]] = {}
    for word, firsts in _proper_nouns()[1].items():
        for gloss in firsts:
            by_gloss.setdefault(gloss, set()).add(word)
    return by_gloss


@cache
def _proper_nouns() -> tuple[set[str], dict[str, set[str]]]:
    """(CC-CEDICT's common words, its proper nouns of 2+ characters folded -> their first English glosses)."""
    common: set[str] = set()
    glosses: dict[str, set[str]] = {}
    for _, simplified, name, phrases in cedict_entries(glossed=bool):  # glosses of proper nouns only
        if not name:
            common.add(simplified)  # folding is t2s: a simplified headword is already folded, bar a rare variant
        elif len(simplified) >= 2 and phrases:
            glosses.setdefault(fold(simplified), set()).add(phrases[0])
    return common, glosses


def segment(text: str) -> list[str]:
    """`text` (folded) cut into words by jieba's dictionary and word frequencies (no guessing of unknown words)."""
    return _jieba().lcut(text, HMM=False)


@cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # its start-up notes are not the user's concern
    jieba.initialize()  # ~1 s; it keeps its prefix dictionary in the temp folder
    return jieba


def question_names(question: str) -> list[Name]:
    """The proper names the question names, each once, in order."""
    names = load_names()
    found = dict.fromkeys(word for word in segment(fold(question)) if word in names)
    return [Name(word, names[word]) for word in found]


def asked_names(names: list[Name], is_subject: Callable[[Name], bool]) -> list[Name]:
    """Those of a question's names that are not the corpus's subject (`is_subject`), each also held without a
    subject inside it."""
    out = []
    for name in names:
        if is_subject(name):
            continue
        for inner in inner_names(name):
            if is_subject(inner):
                name = leaving_unsaid(name, inner)
        out.append(name)
    return out


def inner_names(name: Name) -> list[Name]:
    """The names inside a name (聯合國 in 聯合國大會)."""
    names, key = load_names(), name.key
    found = dict.fromkeys(key[i:j] for i in range(len(key)) for j in range(i + 2, len(key) + 1)
                          if key[i:j] in names and key[i:j] != key)
    return [Name(word, names[word]) for word in found]


def leaving_unsaid(name: Name, subject: Name) -> Name:
    """The name, also held by a passage that leaves the subject inside it unsaid (聯合國大會 as 大會)."""
    rest = [form.replace(subject.key, "") for form in name.forms if subject.key in form]
    return name._replace(forms=tuple(dict.fromkeys([*name.forms, *(r for r in rest if len(r) >= 2)])))


def as_written(name: Name, question: str) -> str:
    """The name in the question's own characters ("非洲" of a Traditional question, not its folded key)."""
    start = fold(question).find(name.key)
    written = question[start:start + len(name.key)] if start >= 0 else ""
    return written if fold(written) == name.key else name.key


def missing_names(names: list[Name], text: str) -> list[Name]:
    """Those of `names` that `text` does not hold. Text not in Chinese is not asked for an English name
    (qa/language/places.py): English writes a place many ways (France, French, Paris), and the check is for English
    questions read against Chinese text."""
    folded = fold(text)
    chinese = has_cjk(folded)
    return [name for name in names
            if (chinese or has_cjk(name.key)) and not any(form in folded for form in name.forms)]
