"""English place names in a question, and the Chinese names a passage holds them by.

An English question about a place the passages never name is answered from the passage nearest its topic ("How many
people in Haiti needed humanitarian assistance in 2022?" finds the paragraph on the Sahel and answers its 2000萬人).
Chinese questions have qa/language/names.py; for English ones, the countries and regions of the Unicode CLDR
(qa/bundled/places.json, written by data/places/cldr_places.py) give each place its Chinese names in both scripts
and Hong Kong's, widened by CC-CEDICT's proper nouns glossed with the English name and their other spellings (海地;
義大利 = 意大利). A name that is part of a longer proper name ("South China Morning Post", "Republic of China") or of
a compound ("China–India") is not a place asked about. A country Chinese often writes by one character in compounds
(抗日, 中英, 美軍) is also held by it, for an English question and a Chinese one alike (`with_short_forms`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files

from qa.language.names import Name, load_names, names_by_gloss
from qa.language.text import fold

# CLDR's other English names for a place, which babel's packaging of it leaves out; "US" and "U.S." are not here:
# they are mostly adjectives ("US dollars", "U.S. troops": the Chinese says 美元, 美軍, not 美國)
ALIASES = {"US": ("USA", "America", "United States of America"), "GB": ("UK", "U.K.", "Britain", "Great Britain"),
           "TR": ("Turkey",), "CI": ("Ivory Coast", "Cote d'Ivoire"), "CZ": ("Czech Republic",),
           "PS": ("Palestine",), "CD": ("Democratic Republic of the Congo", "DR Congo"), "VA": ("Vatican",),
           "KR": ("Korea",), "KP": ("Korea",)}
# a country's one-character short forms (each character of the string), which Chinese writes in compounds (抗日,
# 美軍, 中英, 港澳台, 東歐): they make the check lenient for these places, where the full name is often not written
SHORT_FORMS = {"JP": "日", "US": "美", "GB": "英", "FR": "法", "DE": "德", "RU": "俄", "CN": "中华", "KR": "韩",
               "KP": "朝", "IT": "意义", "AU": "澳", "CA": "加", "IN": "印", "TW": "台", "HK": "港", "MO": "澳",
               "ES": "西", "PT": "葡", "NL": "荷", "150": "欧", "142": "亚"}
# a capitalised word before the name (but the question's first word), "X of (the)" before it, or a dash beside it
_BEFORE = re.compile(r"(?:\b[A-Z][\w'.]*(?: of(?: the)?)? |[-–—/])$")
_AFTER = re.compile(r"^(?: [A-Z]|[-–—/]\w)")


@cache
def load_places() -> dict[str, tuple[str, ...]]:
    """Each English name of a place (as written: "Haiti", "Congo") -> its forms, folded: the English name and
    every Chinese name for it. Loads CC-CEDICT's names once (qa/language/names.py, cached)."""
    load_names()
    forms: dict[str, set[str]] = {}
    for code, (english, chinese) in _places().items():
        for written in (*_variants(english.replace("’", "'")), *ALIASES.get(code, ())):
            forms.setdefault(written, set()).update({written.lower(), *_chinese_forms(written, chinese),
                                                     *SHORT_FORMS.get(code, "")})
    return {written: tuple(sorted(held)) for written, held in forms.items()}


def with_short_forms(names: list[Name]) -> list[Name]:
    """A Chinese question's names, a country's also held by its short form (英國 by 中英, 日本 by 抗日)."""
    short = _short_forms_by_name()
    return [name._replace(forms=(*name.forms, *short[name.key])) if name.key in short else name for name in names]


@cache
def _short_forms_by_name() -> dict[str, str]:
    """The folded Chinese names of the places with a short form, each to it."""
    return {fold(name): short for code, short in SHORT_FORMS.items() for name in _places()[code][1]}


@cache
def _places() -> dict[str, list]:
    """The bundled CLDR table: each place's code -> [its English name, its Chinese names]."""
    return json.loads((files("qa") / "bundled" / "places.json").read_text(encoding="utf-8"))["places"]


# places that are also cities: a question asking for a city may be answered with one
CITY_STATES = frozenset({"SG", "MC", "VA", "HK", "MO", "GI"})


@cache
def _country_and_region_names() -> frozenset[str]:
    return frozenset(fold(name) for code, (_, chinese) in _places().items() if code not in CITY_STATES
                     for name in chinese)


def is_country_or_region(text: str) -> bool:
    """Whether the text, as a whole, is a CLDR country's or region's Chinese name ("巴基斯坦", "加勒比"): not a city."""
    return fold(text.strip()) in _country_and_region_names()


def english_places(question: str) -> list[Name]:
    """The places an English question names, each once, in order; longer names first ("South Sudan", not "Sudan")."""
    places, question = load_places(), question.replace("’", "'")
    found: dict[str, Name] = {}
    for match in _pattern().finditer(question):
        written = match.group(1)
        if not _part_of_longer(question, match.start(), match.end()):
            found.setdefault(written, Name(fold(written), places[written]))
    return list(found.values())


def _variants(english: str) -> list[str]:
    """CLDR's name as questions write it: "Myanmar (Burma)" is both, "Congo - Kinshasa" is "Congo"."""
    if match := re.fullmatch(r"(.+?) \((.+)\)", english):
        return [match.group(1), match.group(2)]
    return [english.split(" - ")[0]]


def _chinese_forms(english: str, chinese: list[str]) -> set[str]:
    """The Chinese names of a place, folded ("剛果（金夏沙）" is 刚果), those CC-CEDICT glosses with its English
    name, and every other spelling of each (names.py)."""
    names = load_names()
    found = {fold(re.sub(r"[（(].*?[）)]", "", name)) for name in chinese}
    found |= names_by_gloss().get(english.lower(), set())
    return found | {form for name in found for form in names.get(name, ())}


@cache
def _pattern() -> re.Pattern[str]:
    written = sorted(load_places(), key=len, reverse=True)
    return re.compile(r"(?<![\w.])(" + "|".join(re.escape(name) for name in written) + r")(?!\w)")


def _part_of_longer(question: str, start: int, end: int) -> bool:
    """Whether the name at question[start:end] is part of a longer proper name or a compound."""
    before = _BEFORE.search(question[:start])
    if before and before.start() > 0 and not question[:before.start()].rstrip().endswith((".", "?", "!", ":", '"')):
        return True
    return bool(_AFTER.match(question[end:]))
