"""Write qa/bundled/places.json: every territory's English name and its Chinese names (Simplified, Taiwan, Hong
Kong), from the Unicode CLDR as `babel` packages it. The pipeline reads English place names in a question with it
(qa/language/places.py); nothing imports babel at run time.

    pip install babel==2.16.0 && python data/places/cldr_places.py
"""

import json
from pathlib import Path

from babel import Locale, __version__

OUT = Path(__file__).resolve().parents[2] / "qa" / "bundled" / "places.json"
CHINESE = ("zh_Hans", "zh_Hant", "zh_Hant_HK")
# not a place a question names: the whole world, bodies and pseudo-regions
SKIP = {"001", "UN", "EU", "EZ", "QO", "XA", "XB", "ZZ"}


def main() -> None:
    english = Locale("en").territories
    chinese = [Locale.parse(tag).territories for tag in CHINESE]
    places = {code: [name, sorted({names[code] for names in chinese if names.get(code)})]
              for code, name in sorted(english.items()) if code not in SKIP}
    rows = ",\n".join(f"  {json.dumps(code)}: {json.dumps(row, ensure_ascii=False)}" for code, row in places.items())
    source = json.dumps(f"Unicode CLDR via babel {__version__} (Unicode License v3)")
    OUT.write_text(f'{{"source": {source},\n "places": {{\n{rows}\n}}}}\n', encoding="utf-8")  # a place a line
    print(f"{len(places)} places -> {OUT}")


if __name__ == "__main__":
    main()
