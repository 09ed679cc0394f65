"""bench.run's Simplified copy of a DRCD question: question, paragraph and answers converted, answers in place."""

from __future__ import annotations

from bench.run import in_simplified
from qa.documents.squad import SquadParagraph, SquadQuestion


def test_in_simplified_converts_all_three_and_keeps_each_answer_in_its_place():
    context = "臺灣鐵路管理局於1948年成立，總部設在臺北車站，負責經營臺灣的鐵路。"
    answers = ("臺北車站", "1948年")
    q = SquadQuestion("q1", "臺灣鐵路管理局的總部設在哪裡？", SquadParagraph("p1", "臺灣鐵路", context), answers,
                      tuple(context.index(a) for a in answers))
    converted, text = in_simplified(q)
    assert text == "台湾铁路管理局的总部设在哪里？"
    assert converted.paragraph.context == "台湾铁路管理局于1948年成立，总部设在台北车站，负责经营台湾的铁路。"
    assert converted.answers == ("台北车站", "1948年")
    for answer, start in zip(converted.answers, converted.starts):
        assert converted.paragraph.context[start : start + len(answer)] == answer
