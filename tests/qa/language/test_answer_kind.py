import pytest

from qa.language.answer_kind import asked_kind, cannot_be, excluding_kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("烏克蘭是在哪一天向國際法院提起訴訟?", "day"),
        ("What was the exact calendar date on which the deal was signed?", "day"),
        ("可持续发展目标联合基金的窗口是在哪个月开设的?", "month"),
        ("In which month was the framework adopted?", "month"),
        ("乔森潘被判决时多少岁?", "age"),
        ("2022年女性佔多大比例,百分之幾?", "percent"),
        ("What percentage of peacekeepers were women?", "percent"),
        ("建設和平基金撥給哥倫比亞多少資金?", "money"),
        ("How much did the Central Emergency Response Fund allocate in 2022?", "money"),
        ("How much income does each family earn?", "money"),
        ("2022年有多少人道主義工作者遇襲身亡,共多少人?", "people"),
        ("How many children were killed or maimed?", "people"),
        ("网络犯罪公约草案的政府间谈判在哪座城市进行?", "city"),
        ("In which city was the declaration adopted?", "city"),
        ("How many troops in total serve in the peacekeeping operations?", "people"),
        ("How many humanitarian workers were killed in 2022?", "people"),
        ("维和行动中一共有多少维和人员?", "people"),
        ("What did the operation to remove the oil from the tanker cost?", "money"),
        ("How many countries sent delegates to the conference?", None),  # a count of countries, not of people
        # asking for a date loosely, a year, how old a thing is or a rate: English uses these for coarser answers
        ("On what date did Apollo 15 land on the Moon?", None),
        ("How old is the building holding the covered market?", None),
        ("What is the fertility rate among orthodox families?", None),
        ("黑海倡議運出了多少糧食?", None),
    ],
)
def test_the_kind_a_question_asks_for(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize(
    ("kind", "answer", "ruled_out"),
    [
        ("day", "2022年7月", True), ("day", "7月", True), ("day", "July 2022", True), ("day", "二〇二二年七月", True),
        ("day", "2022年7月15日", False), ("day", "15 July 2022", False), ("day", "星期一", False),
        ("day", "80億", True), ("day", "2000個", True), ("day", "8 billion", True), ("day", "7月15日", False),
        ("day", "10 days", False), ("day", "the 3rd", False),
        ("month", "2022年", True), ("month", "2022年7月", False), ("month", "七月", False),
        ("month", "42%", True), ("month", "1600萬人", True), ("month", "3月", False),
        ("age", "1975年至1979年", True), ("age", "85歲", False), ("age", "85", False),
        ("percent", "80億", True), ("percent", "300億美元", True), ("percent", "2000萬人", True),
        ("percent", "42%", False), ("percent", "三分之一", False), ("percent", "一半", False),
        ("percent", "1.9", False),
        ("money", "2000個", True), ("money", "27000起", True), ("money", "500多名", True),
        ("money", "8700萬美元", False), ("money", "$10 per month", False), ("money", "300萬", False),
        ("money", "25%", False), ("money", "100多万桶", True),
        ("people", "27000起", True), ("people", "300億美元", True), ("people", "41個", True),
        ("people", "2.16億人", False), ("people", "120個國家的500多名", False), ("people", "30%", False),
        ("people", "近600萬", False), ("people", "2,000 people", False),
        ("city", "加勒比", True), ("city", "巴基斯坦", True), ("city", "巴基斯坦洪災", True),
        ("city", "黑海倡議", True),
        ("city", "維也納", False), ("city", "新加坡", False), ("city", "香港", False), ("city", "沙姆沙伊赫", False),
        ("city", "紐約聯合國總部", False),
        (None, "27000起", False),
    ],
)
def test_a_span_of_another_kind_is_ruled_out(kind, answer, ruled_out):
    assert cannot_be(kind, answer) is ruled_out


def test_a_question_asking_no_known_kind_rules_nothing_out():
    assert excluding_kind("聯合國秘書長是誰?") is None
    check = excluding_kind("How many children were killed or maimed in 2022?")
    assert check("27000起") and not check("8631名兒童")


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown answer kind"):
        cannot_be("colour", "紅色")
