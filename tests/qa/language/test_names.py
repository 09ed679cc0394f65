"""Proper names a Chinese question names (qa/language/names.py), read with the real CC-CEDICT."""

from __future__ import annotations

import pytest

from qa.language.names import missing_names, question_names, segment


def keys(question: str) -> list[str]:
    return [name.key for name in question_names(question)]


@pytest.mark.parametrize(("question", "names"), [
    ("去年新上網的4億多用戶當中,有多少來自非洲?", ["非洲"]),
    ("2022年聯合國透過人道主義應急計劃在敘利亞援助了多少人?", ["联合国", "叙利亚"]),  # folded to Simplified
    ("建设和平基金拨给哥伦比亚的项目资金有多少?", ["哥伦比亚"]),
    ("中國城市規劃當中什麼部分是範圍最大的?", ["中国"]),  # 中國 + 城市, not the name 中國城
    ("承諾改造教育系統的國家中有多少個是非洲國家?", ["非洲"]),
    ("網球因為什麼制度的廢棄而進入開放時代?", []),  # 時代 is also a common word (an era), not only a magazine
    ("哪位市長在何時成功連任?", []),  # 成功: success, not the town
    ("How many people came online?", []),
])
def test_names_are_proper_nouns_of_the_segmented_question(question, names):
    assert keys(question) == names


def test_segmentation_takes_the_likelier_words():
    assert segment("中国城市规划") == ["中国", "城市规划"]
    assert segment("是非洲国家")[:2] == ["是", "非洲"]  # not 是非 (right and wrong) + 洲
    assert "明和" not in segment("印刷术的发明和引进")  # 发明 + 和, not the name 明和


def test_a_dynasty_is_also_held_by_its_one_character():
    yuan, = question_names("哪一位元朝皇帝下令恢復科舉?")
    assert missing_names([yuan], "元仁宗下詔恢復科舉") == []  # 元朝 as 元
    assert missing_names([yuan], "明太祖下詔恢復科舉") == [yuan]


def test_a_passage_holds_a_name_in_either_script_or_by_another_spelling():
    africa, = question_names("有多少來自非洲?")
    assert missing_names([africa], "非洲大陸自由貿易區") == []
    assert missing_names([africa], "4億多新用戶上網") == [africa]
    ethiopia, = question_names("衣索比亞的危機")  # Taiwan's spelling; the UN's is 埃塞俄比亞
    assert missing_names([ethiopia], "聯合國幫助了埃塞俄比亞近1600萬人") == []
    syria = question_names("敘利亞")[0]
    assert missing_names([syria], "叙利亚难民") == []  # Simplified text, Traditional question
