"""Characters a PDF's text layer gets wrong: fonts that share one glyph between a radical and an ideograph make
text extraction return the radical (`⺠` U+2EA0 for 民, `⽀` U+2F40 for 支), so an answer would not be verbatim
and keyword search would miss it. Kangxi radicals (U+2F00-U+2FD5) and ligatures (ﬁ) fold by NFKC; the CJK radicals
supplement (U+2E80-U+2EF3) has no decomposition, so it is mapped by this table (Unicode's
EquivalentUnifiedIdeograph.txt, for the radicals that stand for a character of their own)."""

from __future__ import annotations

import re
import unicodedata

_SUPPLEMENT = dict(zip(
    "⺁⺅⺆⺉⺊⺋⺌⺎⺏⺐⺒⺓⺔⺕⺖⺗⺘⺙⺛⺜⺝⺞⺟⺠⺡⺢⺣⺤⺥⺦⺧⺨⺩⺬⺭⺯⺰⺲⺳⺹⺺⺻⺼⺽⺾⺿⻀⻁⻂⻃⻄⻅⻆⻈⻉⻋⻌⻍⻎⻏⻐⻑⻒⻓⻔⻖⻘⻙⻚⻛⻜⻝⻟⻠⻢⻣⻤⻥⻦⻧⻨⻩⻪⻫⻬⻭⻮⻯⻰⻱⻲⻳",
    "厂亻冂刂卜㔾小兀尣尢巳幺彑彐忄㣺扌攵旡日月歺母民氵氺灬爫爫丬牜犭王示礻糸纟罒㓁耂肀聿月臼艹艹艹虎衤覀西见角讠贝车辶辶辶阝钅長镸长门阝青韦页风飞食飠饣马骨鬼鱼鸟卤麦黄黾斉齐歯齿竜龙龜亀龟",
    strict=True,
))
_SUSPECT = re.compile(r"[\u2e80-\u2ef3\u2f00-\u2fd5\ufb00-\ufb06]")


def repair(text: str) -> str:
    """Radicals back to the ideographs they stand for, ligatures to their letters; everything else untouched."""
    if not _SUSPECT.search(text):
        return text
    return _SUSPECT.sub(lambda m: _SUPPLEMENT.get(m.group(), unicodedata.normalize("NFKC", m.group())), text)
