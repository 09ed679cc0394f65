"""Text folding shared by the keyword index and its queries.

Folding both sides Traditional -> Simplified (OpenCC `t2s`) matched better on the report than
`s2t`, which produces variant characters (祕, 羣) the report does not use.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Width (NFKC), case and script folding: the form both index and query are matched in."""
    return _t2s().convert(unicodedata.normalize("NFKC", text).lower())


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def clean_question(text: str) -> str:
    """Collapse whitespace (including full-width spaces) and trim."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


_SENTENCE_END = re.compile(r"(?<=[。;；!?！？\n])")


def split_sentences(text: str) -> list[str]:
    """Sentences (ending punctuation kept); a text without any gives itself."""
    parts = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    return parts or [text]
