from __future__ import annotations

import numpy as np

from qa.language.text import fold, has_cjk, split_sentences
from qa.storage.keywords import SparseIndex, terms


def test_fold_handles_script_width_and_case():
    assert fold("聯合國秘書長") == fold("联合国秘书长")
    assert fold("ＣＯＶＩＤ－１９") == "covid-19"
    # t2s does not produce the variant characters s2t would (祕, 羣)
    assert fold("秘密") == "秘密"


def test_terms_are_char_unigrams_and_bigrams():
    assert terms("聯合國") == ["联", "合", "国", "联合", "合国"]
    assert "2022" in terms("2022年,") and "," not in terms("2022年,")


def test_simplified_question_finds_traditional_text_and_back():
    index = SparseIndex(["聯合國籌集了創紀錄的人道主義援助。", "氣候行動需要更多資金。", "维和人员的安全。"])
    assert int(np.argmax(index.scores("联合国筹集的人道主义援助"))) == 0
    assert int(np.argmax(index.scores("氣候行动"))) == 1
    assert int(np.argmax(index.scores("維和人員"))) == 2


def test_unknown_terms_score_zero():
    index = SparseIndex(["甲乙丙"])
    assert index.scores("xyz").tolist() == [0.0]


def test_cjk_detection_and_sentences():
    assert has_cjk("What is 聯合國?") and not has_cjk("What is the UN?")
    assert split_sentences("一。二;三") == ["一。", "二;", "三"]
    assert split_sentences("沒有句號") == ["沒有句號"]


def test_passages_holding_a_word_are_found_by_its_bigrams():
    index = SparseIndex(["非洲的發展", "洲非", "歐洲", "埃塞俄比亞和非洲"])
    assert index.holding("非洲").tolist() == [0, 3]  # not "洲非": its characters, not the word
    assert index.holding("埃塞俄比亚").tolist() == [3]
    assert index.holding("非").tolist() == [0, 1, 3]
    assert index.holding("美國").tolist() == [] and index.holding("").tolist() == []
