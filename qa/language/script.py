"""Traditional vs Simplified Chinese: which script a text is in, and a question converted into the
script of the passage it is read against (the reader was trained on same-script pairs).

Only OpenCC's character-level configs are used (`s2tw`, `t2s`): they keep lengths, and they are
applied to questions only, so answer offsets into the passage never move. Traditional is Taiwan's standard
(`s2tw`): the report and DRCD write 為, 裡, 群, 秘 (111, 3, 7, 24 times in the report), `s2t` gives 爲, 裏, 羣,
祕 (none); dev2 F1 69.2 -> 69.5 (dev2-098 answered whole), the report dev set unchanged.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

Script = Literal["traditional", "simplified"]


@cache  # three configs (t2s, s2t, s2tw): a two-entry cache rebuilt one or two per question, ~7 ms each
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def script_of(text: str) -> Script | None:
    """The script with more script-specific characters in `text`; None when it has none (or a tie)."""
    to_simplified = sum(a != b for a, b in zip(text, _converter("t2s").convert(text)))
    to_traditional = sum(a != b for a, b in zip(text, _converter("s2t").convert(text)))
    if to_simplified > to_traditional:
        return "traditional"
    if to_traditional > to_simplified:
        return "simplified"
    return None


def in_script(question: str, script: Script | None) -> str:
    """The question converted to `script` when it is written in the other one, else unchanged."""
    if script is None or script_of(question) in (None, script):
        return question
    return to_script(question, script)


def to_script(text: str, script: Script) -> str:
    """The text with every character in `script` (character by character: the length stays)."""
    return _converter("s2tw" if script == "traditional" else "t2s").convert(text)
