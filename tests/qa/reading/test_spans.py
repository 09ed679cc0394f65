import numpy as np

from qa.reading.spans import clean_span, decode_spans
from qa.reading.windows import Windows


def test_a_clean_span_drops_dangling_punctuation():
    text = "我們籌集了「300億美元」,用於援助。"
    assert text.__getitem__(slice(*clean_span(text, 5, 13))) == "「300億美元」"
    assert text.__getitem__(slice(*clean_span(text, 6, 13))) == "300億美元"


def test_a_quote_mark_inside_a_span_takes_in_its_partner():
    text = "工作重心從重「量」轉向重「質」,並採用「計裏劃方」法。"
    grown = text.__getitem__(slice(*clean_span(text, 4, 14)))  # "從重「量」轉向重「質"
    assert grown == "從重「量」轉向重「質」"
    assert text.__getitem__(slice(*clean_span(text, 20, 26))) == "「計裏劃方」法"  # from "計裏劃方」法"


def test_a_number_keeps_its_unit():
    text = "全球有超過53億人接入互聯網,其中4億多新用戶。"
    assert text.__getitem__(slice(*clean_span(text, 5, 8))) == "53億人"  # from "53億"
    assert text.__getitem__(slice(*clean_span(text, 3, 9))) == "超過53億人"  # already whole
    assert text.__getitem__(slice(*clean_span(text, 17, 20))) == "4億多"  # "多" is not a numeral: left as is


def test_a_clean_span_drops_the_particle_de_at_either_edge():
    text = "經過近20年的談判,維和特派團的三方論壇每月舉行。"
    assert text.__getitem__(slice(*clean_span(text, 3, 7))) == "20年"  # from "20年的"
    assert text.__getitem__(slice(*clean_span(text, 15, 20))) == "三方論壇"  # from "的三方論壇"
    assert text.__getitem__(slice(*clean_span(text, 12, 20))) == "特派團的三方論壇"  # inside a span it stays
    assert clean_span(text, 15, 16)[1] <= clean_span(text, 15, 16)[0]  # the particle alone: nothing left


def test_a_fraction_stays_whole():
    text = "約四分之一的人口"
    assert text.__getitem__(slice(*clean_span(text, 1, 3))) == "四分之一"  # from "四分"
    assert text.__getitem__(slice(*clean_span(text, 0, 3))) == "約四分之一"


def _char_windows(text: str) -> Windows:
    """One window reading `text` a character per token after token 0 (the "no answer" token)."""
    n = len(text) + 1
    offsets = np.array([(-1, -1)] + [(k, k + 1) for k in range(len(text))]).reshape(1, n, 2)
    return Windows(np.zeros((1, n), np.int64), np.ones((1, n), np.int64), offsets, np.zeros(1, np.int64))


def _logits(n: int, probs: dict[int, float]) -> np.ndarray:
    """Logits of one window whose softmax gives these character positions these probabilities."""
    p = np.full(n + 1, 1e-9)
    for char, prob in probs.items():
        p[char + 1] = prob
    p[0] = max(1e-9, 1 - p.sum())
    return np.log(p)[None, :]


def test_token_pairs_giving_the_same_clean_span_add_up():
    text = "籌集了「300億美元」和200億"
    three, yuan, quote, two, yi = text.index("3"), text.index("元"), text.index("」"), text.index("2"), len(text) - 1
    start = _logits(len(text), {three: 0.6, two: 0.4})
    end = _logits(len(text), {yuan: 0.3, quote: 0.3, yi: 0.4})
    # the likeliest single pair is "300億美元」和200億" (0.24), but "300億美元" and "300億美元」" are one
    # answer once clean (0.18 + 0.18)
    [span] = decode_spans(start, end, _char_windows(text), [text])
    assert text[span.start : span.end] == "300億美元"
    assert abs(span.score - 0.36) < 1e-6


def test_decoded_spans_are_clean():
    text = "報告說,「以行動促維和」倡議已經啟動。"
    comma, act = text.index(","), text.index("以")
    start = _logits(len(text), {comma: 0.7, act: 0.2})
    end = _logits(len(text), {text.index("和"): 0.9})
    [span] = decode_spans(start, end, _char_windows(text), [text])
    assert text[span.start : span.end] == "以行動促維和"  # the likeliest pair reads ",「以行動促維和"
    assert abs(span.score - 0.9 * (0.7 + 0.2)) < 1e-6


def test_a_ruled_out_span_takes_the_less_likely_spans_overlapping_it_along():
    text = "衝突中發生27000起嚴重侵害,226人遇難。"
    n27, qi, n226, ren = text.index("2"), text.index("起"), text.index("226"), text.index("人")
    start = _logits(len(text), {n27: 0.7, n226: 0.3})
    end = _logits(len(text), {qi: 0.6, qi - 1: 0.3, ren: 0.1})
    [kept] = decode_spans(start, end, _char_windows(text), [text])
    assert text[kept.start : kept.end] == "27000起"
    # "27000起" ruled out: "27000" (0.21) is the same answer read shorter, so "226人" (0.03) is chosen
    [other] = decode_spans(start, end, _char_windows(text), [text], rule_out=lambda span: span.endswith("起"))
    assert text[other.start : other.end] == "226人"
    assert abs(other.score - 0.3 * 0.1) < 1e-6
    assert decode_spans(start, end, _char_windows(text), [text], rule_out=lambda span: True) == []
    # a span `exclude` passes over (a follow-up's previous answer) takes nothing along: the next likely one is read
    [shorter] = decode_spans(start, end, _char_windows(text), [text], exclude=lambda span: span.endswith("起"))
    assert text[shorter.start : shorter.end] == "27000"
