"""Numbers a question names, and whether a passage holds them.

A question that names a year or a count ("How many satellites were registered in 2021?"), or a session by its
ordinal ("第七屆會議"), can be answered only by a passage that states it: one about 2022 holds a plausible wrong
answer. The reader alone gives such answers high probability (dev2's unanswerable questions), so a passage lacking
one of the question's numbers is not read. Chinese numerals in the passage count ("第二十七屆" holds 27, "二〇二二年"
holds 2022), and a number matches inside a longer one ("2 billion" and "20億" pass), and a number with its scale
word matches the same amount at another scale ("260 million" and "2.6億", "100,000" and "10萬"), so the check errs
towards reading.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "兩": 2, "两": 2}
_POWERS = {"十": 10, "百": 100, "千": 1000}
_CHINESE_RUN = re.compile("[零〇一二三四五六七八九兩两十百千]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "千": 1e3, "萬": 1e4, "万": 1e4,
           "億": 1e8, "亿": 1e8, "萬億": 1e12, "万亿": 1e12}
_CHINESE_SCALE = "萬億|万亿|萬|万|億|亿"
_ENGLISH_SCALE = r"\s?(?:thousand|million|billion|trillion)\b"
_QUESTION_NUMBER = re.compile(rf"\d+(?:\.\d+)?(?:{_CHINESE_SCALE}|{_ENGLISH_SCALE})?", re.I)
_AMOUNT = re.compile(rf"(\d+(?:\.\d+)?)(?:多|余|餘)?({_CHINESE_SCALE}|千|{_ENGLISH_SCALE})?", re.I)  # "3200多萬"
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3})")
# an ordinal in Chinese numerals with its counter: the session, round or place a question asks about ("第七屆會議")
_ORDINAL = re.compile("第([零〇一二三四五六七八九十百千兩两]+)(?=[屆届次任期號号條条款章輪轮個个位名]|階段|阶段)")


def _chinese_value(run: str) -> str:
    """"二〇二二" -> "2022" (digit by digit), "二十七" -> "27", "一百二十" -> "120"."""
    if all(c in _DIGITS for c in run):
        return "".join(str(_DIGITS[c]) for c in run)
    total, digit = 0, None
    for c in run:
        if c in _DIGITS:
            digit = _DIGITS[c]
        else:
            total += (1 if digit is None else digit) * _POWERS[c]
            digit = None
    return str(total + (digit or 0))


def with_arabic_numerals(text: str) -> str:
    """The text with full-width digits, thousands separators and Chinese numerals as plain Arabic numbers."""
    text = _THOUSANDS.sub("", unicodedata.normalize("NFKC", text))
    return _CHINESE_RUN.sub(lambda m: _chinese_value(m.group()), text)


def question_numbers(question: str) -> list[str]:
    """The Arabic numbers a question names, with their scale word ("2021", "1.5", "260 million", "2.6億"), and
    its ordinals in Chinese numerals ("第二十七屆" names 27); other Chinese numerals in a question are not counted
    (一些, 一半 and 十分 are not numbers)."""
    text = _THOUSANDS.sub("", unicodedata.normalize("NFKC", question))
    found = {" ".join(m.split()).lower() for m in _QUESTION_NUMBER.findall(text)}
    return sorted(found | {_chinese_value(m) for m in _ORDINAL.findall(text)})


def missing_numbers(numbers: list[str], passage: str) -> list[str]:
    """Those of the question's numbers that the passage does not hold (a decimal may lose its point:
    "1.5 million" and "150萬")."""
    if not numbers:
        return []
    text = with_arabic_numerals(passage)
    return [n for n in numbers if not _holds(text, n)]


def unmatched_numbers(numbers: list[str], passages: list[str]) -> list[str]:
    """Those of the question's numbers that none of the passages holds: why they could not answer it."""
    return [n for n in numbers if all(missing_numbers([n], text) for text in passages)]


def _holds(text: str, number: str) -> bool:
    digits = _NUMBER.match(number).group()
    if digits in text or digits.replace(".", "") in text:
        return True
    # a decade is also written by its last two digits: "1950年代" is "(20世紀)50年代"
    if len(number) == 4 and number.endswith("0") and f"{number[2:]}年代" in text:
        return True
    return _amount(_AMOUNT.match(number)) in {_amount(m) for m in _AMOUNT.finditer(text)}


def _amount(match: re.Match) -> float:
    scale = _SCALES[match.group(2).strip().lower()] if match.group(2) else 1
    return round(float(match.group(1)) * scale, 2)


def restates_number(answer: str, numbers: list[str]) -> bool:
    """Whether the answer is only a number the question already names ("2022年" for "2022年哪一個月?"): a
    question does not ask for what it says (4 of the 888 DRCD/CMRC dev questions naming a number have such
    a gold answer). The same amount at another scale is the same number ("2.16億人" for "… the 216 million people
    …")."""
    answer, named = with_arabic_numerals(answer), {_NUMBER.match(n).group() for n in numbers}
    amounts = {_amount(_AMOUNT.match(n)) for n in numbers}
    found = list(_AMOUNT.finditer(answer))
    return (bool(found) and all(m.group(1) in named or _amount(m) in amounts for m in found)
            and len(_AMOUNT.sub("", answer).strip()) <= 2)
