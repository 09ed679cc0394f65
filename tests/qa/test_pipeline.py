"""End to end on the bundled report with the real embedder, retriever and trained reader."""

from __future__ import annotations

import json

import pytest

from qa.documents.load import BUNDLED_CORPUS, load_corpus
from qa.language.text import QuestionError
from qa.pipeline import Pipeline
from qa.storage.collection import build_index
from qa.types import Turn


@pytest.mark.parametrize(
    ("question", "paragraph"),
    [
        ("照現在的速度,要多少年才能在職場領導層實現男女平等代表?", 65),  # Traditional
        ("联合国支持的多边裁军谈判最终要实现什么?", 134),  # Simplified against Traditional text
        ("By mid-June 2023, what volume of grain had been exported under the Black Sea Initiative?", 13),
    ],
)
def test_search_finds_the_paragraph(pipeline, question, paragraph):
    assert pipeline.search(question, 5)[0].passage.paragraph == paragraph


@pytest.mark.parametrize(
    ("question", "answer", "paragraph"),
    [
        ("2022年全球人口突破了哪個里程碑數字?", "80億", 35),
        ("兩個人道主義集合基金為阿富汗撥了多少款?", "2.89億美元", 124),
        ("用來公正監測阿富汗毒品與犯罪情況的信息中心設在哪個國家?", "烏茲別克斯坦", 146),
    ],
)
def test_answers_are_cited_verbatim_spans(pipeline, question, answer, paragraph):
    result = pipeline.ask(question, use_cache=False)  # other tests ask these too: time a real answer
    assert not result.no_answer
    top = result.answers[0]
    assert answer in top.text
    assert top.passage.paragraph == paragraph
    assert top.passage.text[top.start : top.end] == top.text
    assert top.text in top.context and top.context in top.passage.text
    assert 0 < top.score <= 1
    assert set(result.timings_ms) == {"retrieve", "read", "total"}


def test_box_is_cited_by_title(pipeline):
    result = pipeline.ask("人權、民間社會和反恐高級別國際會議是聯合國與哪國政府合辦的?")
    assert result.answers[0].passage.box == "第一次人权、民间社会和反恐高级别国际会议"
    assert "西班牙" in result.answers[0].text


def test_unanswerable_question_says_so(pipeline):
    result = pipeline.ask("2022年因惡意攻擊而殉職的維和人員一共有多少名?")
    assert result.no_answer and result.answers == []
    assert result.hits  # the closest passages are still there to read


@pytest.mark.parametrize("question", ["", "   ", "\u3000\n", "問" * 1001])
def test_bad_questions_are_refused(pipeline, question):
    with pytest.raises(QuestionError):
        pipeline.ask(question)


def test_offsets_hold_for_every_answer(pipeline):
    for question in [
        "聯合國在內部靠哪兩項戰略推動員工隊伍的平等與多元?",
        "Where is the Secretary-General's report from?",
    ]:
        for a in pipeline.ask(question).answers:
            assert a.passage.text[a.start : a.end] == a.text


QUESTIONS = ["2022年全球人口突破了哪個里程碑數字?", "巴基斯坦的暴雨洪灾波及了多少人?",
             "Where did the UN work to reduce divisive ethnic rhetoric through human rights education?",
             "聯合國在內部靠哪兩項戰略推動員工隊伍的平等與多元?"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_early_stop_keeps_the_top_answer_and_reads_less(variant, question):
    early, full = variant(early_stop=True).ask(question), variant(early_stop=False).ask(question)
    assert early.no_answer == full.no_answer
    if full.answers:
        a, b = early.answers[0], full.answers[0]
        assert (a.text, a.passage.id, a.start) == (b.text, b.passage.id, b.start)
        assert a.score == pytest.approx(b.score, rel=1e-3)
    assert 0 < early.tokens_read <= full.tokens_read


def test_a_repeated_question_comes_from_the_cache(variant):
    p = variant(answer_cache=4)
    first = p.ask("2022年全球人口突破了哪個里程碑數字?")
    again = p.ask(" 2022年全球人口突破了哪個里程碑數字? ")  # the same after normalisation
    assert again.timings_ms.get("cached") == 1.0 and again.tokens_read == 0 and "cached" not in first.timings_ms
    assert [a.text for a in again.answers] == [a.text for a in first.answers]
    assert "cached" not in p.ask("2022年全球人口突破了哪個里程碑數字?", use_cache=False).timings_ms
    assert "cached" not in variant(answer_cache=0).ask("2022年全球人口突破了哪個里程碑數字?").timings_ms


def test_a_simplified_question_is_read_in_the_passage_script(variant):
    question = "人权理事会就哪两个国家召开了特别会议?"  # p111 is Traditional; read as is, v4 answers "西班牙"
    folded, plain = variant(fold_question_script=True).ask(question), variant(fold_question_script=False).ask(question)
    assert folded.answers and folded.answers[0].passage.paragraph == 111 and "烏克蘭" in folded.answers[0].text
    # reader v20 (trained on Simplified questions too) finds it read as is, but 0.09 sure against 0.90 folded
    assert not plain.answers or folded.answers[0].span_probability > 5 * plain.answers[0].span_probability


def test_an_english_question_reads_better_with_the_passages_words(variant):
    question = "In what year did the convention that formally set up the register of space objects take effect?"
    bridged, plain = (variant(bridge_english=on).ask(question, use_cache=False) for on in (True, False))  # dev2-013
    assert bridged.answers[0].text == "1976年" and "1976年《关于登记射入外层空间物体" in bridged.answers[0].passage.text
    # reader v12: 0.75 for 1976年 against 0.02 for the wrong year (the plain question's top answer, "2022年")
    assert plain.answers[0].text != "1976年"
    assert bridged.answers[0].span_probability > 5 * plain.answers[0].span_probability


def test_an_english_question_is_searched_by_its_chinese_keywords_too(variant):
    question = "Which two ports would be forced to close if the FSO Safer tanker leaked?"  # dev2-043
    # without the English query map, which finds this box by its vector alone (tests/qa/retrieval/test_query_map.py)
    expanded, plain = (variant(expand_english=on, map_english_queries=False).retriever.search(question, 5)
                       for on in (True, False))
    box = "“安全号”油轮:防止人道主义和环境灾难"
    assert expanded[0].passage.box == box and expanded[0].sparse_rank  # found by keywords too
    (unexpanded,) = [h for h in plain if h.passage.box == box]
    assert unexpanded is not plain[0] and unexpanded.sparse_rank is None  # English words match no Chinese text


@pytest.fixture(scope="module")
def long_passage(pipeline, tmp_path_factory):
    """`long_passage(**settings)`: a Pipeline, sharing the loaded models, over one passage several reader
    windows long (the report's paragraphs 119-124 joined: every report paragraph fits in one window)."""
    text = "".join(p.text for p in load_corpus(BUNDLED_CORPUS) if p.box is None and 119 <= (p.paragraph or 0) <= 124)
    return _pipelines_over(pipeline, tmp_path_factory.mktemp("long"), [text], read_k=1, early_stop=False)


def _pipelines_over(pipeline: Pipeline, folder, texts: list[str], **settings):
    """`make(**settings)`: a Pipeline, sharing the loaded models, over an index of `texts` (one passage each)."""
    corpus = folder / "corpus.jsonl"
    rows = [json.dumps({"id": f"p{i}", "text": text}, ensure_ascii=False) for i, text in enumerate(texts)]
    corpus.write_text("\n".join(rows), encoding="utf-8")
    base = pipeline.settings.model_copy(update={"corpus": corpus, "index_dir": folder / "ix", **settings})
    build_index(base, pipeline.embedder)

    def make(**updates) -> Pipeline:
        p = Pipeline(base.model_copy(update=updates))
        p.embedder, p.reader = pipeline.embedder, pipeline.reader
        return p.load()

    return make


LONG_QUESTION = "兩個人道主義集合基金為阿富汗撥了多少款?"  # paragraph 124's last sentence answers


def test_a_long_passage_is_read_first_at_its_window_nearest_the_closest_sentence(long_passage):
    top = long_passage().search(LONG_QUESTION)[0]
    assert "2.89億美元" in top.passage.text[top.focus[0] : top.focus[1]]
    assert len(long_passage().reader.windows(LONG_QUESTION, [top.passage.text]).input_ids) > 2
    windowed, whole = (long_passage(read_window=on).ask(LONG_QUESTION, use_cache=False) for on in (True, False))
    answer = windowed.answers[0]
    assert answer.text == "2.89億美元" and answer.passage.text[answer.start : answer.end] == answer.text
    assert windowed.tokens_read < whole.tokens_read / 2


def test_an_unsure_window_reads_the_rest_of_the_passage_not_all_of_it_again(long_passage):
    whole = long_passage(read_window=False).ask(LONG_QUESTION, use_cache=False)
    unsure = long_passage(read_window_confidence=1.0).ask(LONG_QUESTION, use_cache=False)
    sure = long_passage(read_window_confidence=0.0).ask(LONG_QUESTION, use_cache=False)
    # the nearest window, then the others: the same spans as reading it whole (scores equal up to float
    # rounding: the windows are batched with other padding), each window read once
    assert [(a.text, a.start) for a in unsure.answers] == [(a.text, a.start) for a in whole.answers]
    assert [a.score for a in unsure.answers] == pytest.approx([a.score for a in whole.answers], rel=1e-4, abs=1e-9)
    assert sure.tokens_read < unsure.tokens_read <= whole.tokens_read



def test_a_passage_lacking_the_year_a_question_names_is_not_read(variant):
    question = "兩個人道主義集合基金2017年為阿富汗撥了多少款?"  # p124 gives 2.89億美元 for 2022
    checked, unchecked = (variant(require_question_numbers=on).ask(question, use_cache=False) for on in (True, False))
    assert unchecked.answers[0].text == "2.89億美元" and unchecked.answers[0].passage.paragraph == 124
    assert checked.no_answer and checked.unmatched_numbers == ["2017"]  # no passage found mentions 2017
    assert unchecked.unmatched_numbers == []


def test_a_passage_lacking_a_place_the_question_names_is_not_read(variant):
    # d31-041 (dev3), not in the report: p23 gives the 4億多 new users, and says nothing of Africa
    question = "去年新上網的4億多用戶當中,有多少來自非洲?"
    checked, unchecked = (variant(require_question_names=on).ask(question, use_cache=False) for on in (True, False))
    assert not unchecked.no_answer and unchecked.answers[0].passage.paragraph == 23
    assert checked.no_answer and checked.unmatched_names == []  # other passages found name Africa
    haiti = variant(require_question_names=True).ask("2022年聯合國在海地為多少人提供了人道主義援助?", use_cache=False)
    assert haiti.no_answer and haiti.unmatched_names == ["海地"]  # only p87 does, on digital dialogues: not found
    # 聯合國 is in 44% of the report's passages, its subject: a passage need not say it (dev2-107, p60)
    pipeline = variant(require_question_names=True)
    assert pipeline.asked_names(question)[0].key == "非洲"
    asked = "聯合國召集會員國參加的是全球減少災害風險平台的第幾屆會議?"
    assert pipeline.asked_names(asked) == []
    answered = pipeline.ask(asked, use_cache=False)
    assert not answered.no_answer and answered.answers[0].passage.paragraph == 60


def test_a_passage_lacking_a_place_an_english_question_names_is_not_read(variant):
    # dev2-139 (dev2), not in the report: p8 gives the Sahel's 2000萬人 and says nothing of Haiti
    question = "How many people in Haiti needed humanitarian assistance in 2022?"
    checked, unchecked = (variant(require_question_names=on).ask(question, use_cache=False) for on in (True, False))
    assert not unchecked.no_answer and unchecked.answers[0].passage.paragraph == 8
    assert checked.no_answer and checked.unmatched_names == ["Haiti"]  # as the question writes it
    afghanistan = variant(require_question_names=True).ask("How many people did the UN help in Afghanistan in 2022?",
                                                           use_cache=False)
    assert afghanistan.answers[0].text == "2600多萬人" and afghanistan.answers[0].passage.paragraph == 9


@pytest.fixture(scope="module")
def ming(pipeline, tmp_path_factory):
    """`ming(**settings)`: a Pipeline, sharing the loaded models, over five short passages, two on Ming emperors."""
    texts = ["朱棣是朱元璋的第四個兒子，洪武三年受封為燕王，駐守北平。",
             "朱高熾是明朝第四位皇帝，1424年即位，在位不到一年便去世。",
             "鄭和七次下西洋，最遠到達非洲東岸。", "長江是中國最長的河流，全長約6300公里。",
             "黃河流經九個省區，最後注入渤海。"]
    return _pipelines_over(pipeline, tmp_path_factory.mktemp("ming"), texts)


def test_a_passage_lacking_a_chinese_name_an_english_question_spells_in_pinyin_is_not_read(ming):
    question = "In what year did Zhu Di become emperor?"  # 朱棣; the year given is 朱高熾's
    checked, unchecked = (ming(require_question_names=on).ask(question, use_cache=False) for on in (True, False))
    assert unchecked.answers[0].text == "1424年"
    assert all("朱棣" in a.passage.text for a in checked.answers)  # 朱高熾's passage is not read
    gaochi = ming(require_question_names=True).ask("In what year did Zhu Gaochi become emperor?", use_cache=False)
    assert gaochi.answers[0].text == "1424年"


def test_a_span_of_another_kind_than_asked_is_passed_over(variant):
    # d31-043 (dev3), not in the report: asked for a month, the reader is sure of the year its passage gives
    question = "可持续发展目标联合基金的“发展紧急事态”窗口是在哪个月开设的?"
    checked, unchecked = (variant(check_answer_kind=on).ask(question, use_cache=False) for on in (True, False))
    assert not unchecked.no_answer and unchecked.answers[0].text == "2022年"
    assert checked.no_answer
    # dev2-001: asked how many people, the count of people is still the answer
    answered = variant(check_answer_kind=True).ask("Roughly how many people across the Sahel got humanitarian "
                                                   "assistance from the UN in 2022?", use_cache=False)
    assert not answered.no_answer and "2000萬人" in answered.answers[0].text


def test_a_follow_up_is_checked_for_the_kind_its_own_words_ask(variant):
    # conv-021: the completed question also holds the first one's "多少名" (people); the follow-up asks a count of
    # missions, and "19個特派團" must not be ruled out as a count of things
    history = [Turn("user", "有多少名聯合國警察在幫助加強國家警務能力?"), Turn("assistant", "10000多名聯合國警察")]
    result = variant(check_answer_kind=True).ask("分布在多少個特派團?", history=history, use_cache=False)
    assert result.resolved_question != "分布在多少個特派團?"
    assert not result.no_answer and "19個" in result.answers[0].text


def test_an_answer_is_scored_by_its_span_and_its_passage_together(variant):
    # dev2-176, not in the report: read alone, a count of countries in a passage about something else looks
    # like its answer
    question = "聯合國在2022年為多少個國家的選舉提供了技術援助?"
    span_only = variant(calibrate_confidence=False, no_answer_threshold=0.02).ask(question, use_cache=False)
    calibrated = variant(calibrate_confidence=True)
    assert not span_only.no_answer and span_only.answers[0].score == span_only.answers[0].span_probability
    assert calibrated.ask(question, use_cache=False).no_answer  # its passage is a weak match for the question
    answered = calibrated.ask("2022年世界人口達到了多少?", use_cache=False)
    top = answered.answers[0]
    hit = next(h for h in answered.hits if h.passage.id == top.passage.id)
    assert "80億" in top.text and top.score >= calibrated.calibration.no_answer_threshold
    assert hit.candidates >= 50
    assert top.score == pytest.approx(calibrated.calibration.confidence(top.span_probability, hit.score))


def test_an_english_answer_is_less_sure_in_a_passage_lacking_the_question_keywords(pipeline):
    # dev2-135, not in the report: the passage found is about the International Criminal Court, not its new cases
    question = "How many new cases did the International Criminal Court open in 2022?"
    result = pipeline.ask(question, no_answer_threshold=0.0, use_cache=False)
    top = result.answers[0]
    hit = next(h for h in result.hits if h.passage.id == top.passage.id)
    coverage = pipeline.calibration.coverage(question, top.passage.text)
    assert 0.0 < coverage < 1.0
    assert top.score == pytest.approx(pipeline.calibration.confidence(top.span_probability, hit.score,
                                                                      hit.candidates, coverage))
    assert pipeline.ask(question, use_cache=False).no_answer


def test_answers_from_a_weaker_passage_need_a_surer_span_the_more_retrieval_counts(variant):
    question = ("Through which peace process did the UN help the parties in Papua New Guinea seek agreement on "
                "the region's future?")  # dev2-030
    # names off: only p82 names Papua New Guinea, so with them on no weaker passage is read at all
    sharp, flat = (variant(passage_rank_weight=w, require_question_names=False).ask(question, use_cache=False)
                   for w in (2.0, 1.0))
    assert sharp.hits[0].passage.paragraph == flat.hits[0].passage.paragraph == 82  # p82 names it: Bougainville
    # reader v20 runs the span on to "…爭取就布干維爾的未來達成協議" (v12 stopped at 進程): this tests the passage
    assert sharp.answers[0].text.startswith("布干維爾和平進程") and sharp.answers[0].passage.paragraph == 82
    assert flat.answers[0].passage.paragraph != 82  # a surer span in a weaker passage outranks it at weight 1


def test_a_follow_up_asks_the_names_of_its_own_words(variant):
    # conv-010: the completed question still names Ukraine, which "那在阿富汗呢?" replaces; p9 names only Afghanistan
    history = [Turn("user", "聯合國在烏克蘭通過人道主義應急計劃為多少人提供了支持?"),
               Turn("assistant", "在烏克蘭,聯合國為近1600萬人提供了支持。")]
    result = variant(require_question_names=True).ask("那在阿富汗呢?", history=history, use_cache=False)
    assert "烏克蘭" in result.resolved_question
    assert not result.no_answer and result.answers[0].text == "2600多萬人" and result.answers[0].passage.paragraph == 9
