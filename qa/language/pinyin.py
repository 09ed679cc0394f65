"""Chinese names an English question spells in pinyin, and the passages that hold them.

An English question about Chinese text names its people and places in pinyin ("Who knew Zhu Di's tactics well?").
CC-CEDICT's readings of its single characters say which characters spell each syllable, so a passage holds "Zhu Di"
where two characters in a row read zhu and di (朱棣), in either script, with no dictionary of names.

A word is read as pinyin when it splits into at most three common syllables by pinyin's own spelling (a syllable
after the first does not begin with a, o or e: "Xi'an" takes an apostrophe) and is not an English word (one in 20 or
more of CC-CEDICT's glosses of common words: "Long", "Men", "Bill"); a name is a run of such capitalised words of two
syllables or more. Many foreign names spell pinyin too ("Kaluga", "Hariri"), and Taiwan's spellings are not pinyin
("Changhua" is 彰化, zhanghua), so a name counts only where one of the passages retrieved for the question holds it
(`held_names`): the passages lacking it are then not read, as for a Chinese question's names (qa/language/names.py).
Where none holds it, the question names nothing these passages know by that spelling, and nothing is asked.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from itertools import islice, product
from typing import NamedTuple

from qa.language.cedict import cedict_rows
from qa.language.names import Name
from qa.language.places import load_places
from qa.language.text import fold

_RUN = re.compile(r"[A-Z][a-z]+(?:'[a-z]+)*(?:[ -][A-Z][a-z]+(?:'[a-z]+)*)*")
MAX_SYLLABLES_PER_WORD = 3  # a Chinese given name is one or two; a place written together ("Heilongjiang") three
MIN_READINGS = 4  # a syllable fewer characters read is an oddity of the dictionary ("r", "lo", "zhuai")
MAX_SPELLINGS = 16  # ways to split one name into syllables, kept
# glosses a word must be in to be English: pinyin turns up in a few ("mao", a tenth of a yuan; "yin and yang")
ENGLISH_MIN_ENTRIES = 20
_AFTER_FIRST = "aoe"  # pinyin writes an apostrophe before these after a syllable (Xi'an, Tian'e)
_ENGLISH_WORD = re.compile(r"(?<![\w'])[a-z]+(?![\w'])")  # a lower-case word of a gloss, whole


class PinyinName(NamedTuple):
    written: str  # as the question writes it ("Zhu Youyuan")
    spellings: tuple[tuple[str, ...], ...]  # its ways to split into syllables (("zhu", "you", "yuan"),)

    def forms_in(self, text: str) -> set[str]:
        """The runs of characters in `text` that read the name, as `text` writes them."""
        readings, found = _tables()[0], set()
        for syllables in self.spellings:
            n = len(syllables)
            starts = {c for c in set(text) if syllables[0] in readings.get(c, ())}
            for i, character in enumerate(text[: len(text) - n + 1]):
                if character in starts and all(syllables[k] in readings.get(text[i + k], ()) for k in range(1, n)):
                    found.add(text[i : i + n])
        return found


def load_pinyin() -> None:
    """CC-CEDICT's readings and English words, read once (cached) so no question waits for them."""
    _tables()


def pinyin_names(question: str) -> list[PinyinName]:
    """The names an English question spells in pinyin, each once, in order (places have qa/language/places.py)."""
    places, found = load_places(), {}
    for run in _RUN.findall(question.replace("’", "'")):
        words: list[tuple[str, list[tuple[str, ...]]]] = []
        for word in [*re.split("[ -]", run), ""]:
            spellings = _spellings(word.removesuffix("'s"))
            if spellings:
                words.append((word.removesuffix("'s"), spellings))
                continue
            written = " ".join(w for w, _ in words)
            if sum(min(map(len, s)) for _, s in words) >= 2 and written not in places:
                splits = islice(product(*(s for _, s in words)), MAX_SPELLINGS)  # not all: a long run has many
                found.setdefault(written, PinyinName(written, tuple(sum(split, ()) for split in splits)))
            words = []
    return list(found.values())


def held_names(question: str, texts: list[str]) -> list[Name]:
    """The pinyin names of the question that one of `texts` holds, each with the runs of characters reading it there
    (the forms a passage holds it by)."""
    out = []
    for name in pinyin_names(question):
        forms = {fold(form) for text in texts for form in name.forms_in(text)}
        if forms:
            out.append(Name(fold(name.written), tuple(sorted(forms))))
    return out


def _spellings(word: str) -> list[tuple[str, ...]]:
    """The ways a capitalised word splits into pinyin syllables ("Yijie": [("yi", "jie")]); [] for an English word
    or one that does not split. An apostrophe is a syllable boundary."""
    _, syllables, english = _tables()
    low = word.lower()
    if not low or low in english or len(low) > 6 * MAX_SYLLABLES_PER_WORD:  # a syllable is at most 6 letters
        return []
    parts = [_splits(part, syllables, MAX_SYLLABLES_PER_WORD) for part in low.split("'")]
    joined = [sum(split, ()) for split in product(*parts)]
    return [s for s in joined if len(s) <= MAX_SYLLABLES_PER_WORD]


def _splits(word: str, syllables: frozenset[str], most: int) -> list[tuple[str, ...]]:
    """The ways `word` splits into at most `most` syllables."""
    if not word:
        return [()]
    if most == 0:
        return []
    out = []
    for end in range(1, min(len(word), 6) + 1):
        head = word[:end]
        if head in syllables:
            out += [(head, *rest) for rest in _splits(word[end:], syllables, most - 1)
                    if not rest or rest[0][0] not in _AFTER_FIRST]
    return out


@cache
def _tables() -> tuple[dict[str, frozenset[str]], frozenset[str], frozenset[str]]:
    """(each character, in either script and folded -> the toneless syllables it reads, the common syllables, the
    English words of CC-CEDICT's glosses of common words), from one pass over CC-CEDICT (~0.5 s, once)."""
    read: list[tuple[str, str, str]] = []
    english: Counter[str] = Counter()
    for traditional, simplified, pinyin, glosses in cedict_rows():
        if len(simplified) == 1 and len(pinyin) == 1:
            syllable = pinyin[0][:-1].lower().replace("u:", "u")
            if syllable.isalpha():
                read.append((traditional, simplified, syllable))
        if pinyin and pinyin[0][:1].islower():  # a common word: the lower-case words of its glosses are English
            english.update(set(_ENGLISH_WORD.findall(glosses)))
    # one fold for all the characters: folding is most of the time, one call at a time
    folded = fold("\n".join(t + s for t, s, _ in read)).split("\n")
    readings: dict[str, set[str]] = {}
    by_folded: dict[str, set[str]] = {}  # a syllable's characters are counted once, not once per script
    for (traditional, simplified, syllable), both in zip(read, folded):
        for character in {traditional, simplified, *(both if len(both) == 2 else "")}:  # not "㍻" as 平成
            readings.setdefault(character, set()).add(syllable)
        for character in both if len(both) == 2 else "":
            by_folded.setdefault(character, set()).add(syllable)
    count = Counter(s for held in by_folded.values() for s in held)
    common = frozenset(s for s, n in count.items() if n >= MIN_READINGS and (len(s) >= 2 or s in _AFTER_FIRST))
    words = frozenset(w for w, n in english.items() if n >= ENGLISH_MIN_ENTRIES)
    return {c: frozenset(held) for c, held in readings.items()}, common, words
