"""The kind of answer a question asks for, and spans that cannot be one.

A question the document does not answer still finds a passage on its topic, and there the reader is often sure of a
span of the wrong kind: asked on what date a truce began, it gives the month the passage has ("2022年7月"), or once
that is ruled out an amount ("80億"); asked how many children were killed, a count of incidents ("27000起"); asked
for a rate, an amount ("80億"); asked how much income, a count ("2000個"); asked in which city, a region ("加勒比")
or an event named after a country ("巴基斯坦洪災"). Such a span is passed over as a
follow-up's previous answer is (`decode_spans`'s `exclude`), so a window gives its most likely span that could be the
answer, and a question whose passages hold none is withheld at the low confidence of what is left.

Only what is clearly of another kind is ruled out: a span with no unit, or with one this module does not know,
passes; so the check errs towards answering. Units are read from Chinese and English spans alike.
"""

from __future__ import annotations

import re

from qa.language.numbers import with_arabic_numerals
from qa.language.places import is_country_or_region

# (kind, question cue): the first cue a question matches names the kind it asks for
_CUES = [
    ("day", r"哪一?天|哪一?日|幾號|几号|何日|幾月幾日|几月几日|[確具][切體]日期|[确具][切体]日期|"
            r"\b(?:exact|calendar|specific|precise) date\b"),
    ("month", r"哪一?個月|哪一?个月|幾月|几月|\b(?:what|which) month\b"),
    ("age", r"幾歲|几岁|多少歲|多少岁|多大年紀|多大年纪|\bat what age\b"),
    ("percent", r"百分之[幾几多]|百分比|百分率|\b(?:what|which) (?:percentage|percent|proportion|share|fraction)\b|"
                r"\bhow many percent\b"),
    ("money", r"多少[錢钱]|多少[資资]金|多少[經经]費|多少[經经]费|多少美元|多少美金|多少[預预]算|多少捐款|"
              r"\bhow much (?:money|funding|income|revenue|cash)\b|\bhow many dollars\b|"
              r"\bhow much (?:did|does|do|was|were|has|have|had|is|will)\b[\w\s'-]{0,60}?\b(?:cost|raise|allocate|"
              r"spend|pay|earn|donate|invest|contribute|pledge)d?\b|"
              r"\bwhat (?:did|does|do|will|would)\b[\w\s'-]{0,60}?\bcost\b"),
    ("people", r"多少人|幾人|几人|多少名|幾名|几名|多少位|幾位|几位|多少民眾|多少民众|多少[兒儿]童|多少婦女|多少妇女|"
               r"多少[難难]民|多少居民|多少[^,，。?？]{0,6}?(?:人[員员]|士兵|[軍军]人|[學学]生|工人|[員员]工|[與与]會者|[与與]会者)|"
               r"\bhow many (?:[\w-]+ )?(?:people|persons|children|women|girls|boys|refugees|civilians|residents|"
               r"migrants|individuals|men|victims|survivors|troops|soldiers|peacekeepers|personnel|staff|workers|"
               r"employees|students|patients|participants|delegates|teachers|doctors|nurses|journalists|prisoners|"
               r"detainees|fighters)\b"),
    ("city", r"哪一?[座個个]?城市|\b(?:which|what) city\b"),
]
_CUE_RES = [(kind, re.compile(cue, re.I)) for kind, cue in _CUES]

_NUMBER = r"\d+(?:\.\d+)?"
# a date with no day in it: a year, a month, or both ("2022年7月", "7月份", "2022年", "July 2022", "2022")
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_NO_DAY = re.compile(rf"(?:(?:公元|西元)?\d{{2,4}}年)?(?:\d{{1,2}}月份?)?(?:初|底|末|中|上旬|中旬|下旬)?|"
                     rf"(?:(?:early|late|mid-?|in|the end of)\s+)?(?:{_MONTHS}\s*)?(?:\d{{4}})?", re.I)
_YEAR = re.compile(r"(?:公元|西元)?\d{4}年?|(?:in\s+)?\d{4}", re.I)
_YEARS = re.compile(r"\d{4}年|\b\d{4}\b")  # an age question answered with a year
_AGE = re.compile(r"[歲岁]|\byears?\b|\bold\b|\bage\b", re.I)
_MONEY = re.compile(r"[元円圓圆$＄€£¥]|美金|\b(?:dollars?|usd|euros?|pounds?|yuan|yen)\b", re.I)
_PERCENT = re.compile(r"[%％‰]|百分之|分之|[成倍]$|一半|半數|半数|\bper\s?cent\b|\bhalf\b", re.I)
_PEOPLE = re.compile(r"[人名位員员口戶户兵]|\b(?:people|persons?|children|women|men|refugees|individuals|staff|"
                     r"residents|civilians|migrants|workers|victims|troops|soldiers|members)\b", re.I)
# counters of things and events, not of people (a number with one of them counts no one)
_THINGS = re.compile(rf"{_NUMBER}\s*[多餘余萬万億亿千百]*\s*(?:[起次個个件所座家艘架輛辆條条場场項项噸吨國国桶]|"
                     r"\b(?:incidents?|attacks?|cases?|countries|times|tonnes?|tons?|projects?)\b)", re.I)
_QUANTITY = re.compile(rf"{_NUMBER}")
_SCALE = re.compile(r"[萬万億亿%％]|\b(?:thousand|million|billion|trillion|per\s?cent)\b", re.I)
# what a city is not: an event, a plan or a body named after a place ("巴基斯坦洪災", "黑海倡議")
_NOT_A_PLACE = re.compile(r"(?:[災灾]|會議|会议|峰會|峰会|倡議|倡议|公約|公约|協定|协定|論壇|论坛|組織|组织)$")
_DATE_WORD = re.compile(rf"[年月日號号]|\b{_MONTHS}|\b(?:year|day|week|century|decade)s?\b", re.I)


def asked_kind(question: str) -> str | None:
    """The kind of answer the question asks for ("day", "month", "age", "percent", "money", "people", "city"), or
    None."""
    for kind, cue in _CUE_RES:
        if cue.search(question):
            return kind
    return None


def cannot_be(kind: str | None, answer: str) -> bool:
    """Whether a span is clearly not an answer of this kind (False for a kind of None)."""
    if kind is None:
        return False
    text = with_arabic_numerals(answer).strip()
    if kind == "day":
        return bool(_QUANTITY.search(text)) and bool(_NO_DAY.fullmatch(text)) or _amount(text)
    if kind == "month":
        return bool(_YEAR.fullmatch(text)) or _amount(text)
    if kind == "age":
        return bool(_YEARS.search(text)) and not _AGE.search(text)
    if kind == "percent":
        return bool(_QUANTITY.search(text)) and not _PERCENT.search(text) and bool(
            _MONEY.search(text) or _PEOPLE.search(text) or _THINGS.search(text) or re.search(r"[萬万億亿]", text))
    if kind == "money":
        return not _MONEY.search(text) and bool(_THINGS.search(text) or _PEOPLE.search(text) and _QUANTITY.search(text))
    if kind == "people":
        return bool(_MONEY.search(text) or _THINGS.search(text)) and not _PEOPLE.search(text)
    if kind == "city":
        return is_country_or_region(text) or bool(_NOT_A_PLACE.search(text))
    raise ValueError(f"unknown answer kind {kind!r}")


def _amount(text: str) -> bool:
    """A number that is an amount or a count ("80億", "2000個", "42%"), with no word of a date in it."""
    return bool(_QUANTITY.search(text)) and not _DATE_WORD.search(text) and bool(
        _SCALE.search(text) or _MONEY.search(text) or _PEOPLE.search(text) or _THINGS.search(text))


def excluding_kind(question: str):
    """A predicate true of spans that cannot answer the question (None when the question asks no known kind)."""
    kind = asked_kind(question)
    return None if kind is None else (lambda answer: cannot_be(kind, answer))
