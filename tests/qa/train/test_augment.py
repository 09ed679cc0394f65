"""The ingredients of the reader's training mix (qa/train/augment.py): each keeps its paragraph and
answer offsets exact, and the mix holds what the recipe asks for."""

from __future__ import annotations

import json
import random

import pytest

from qa.documents.squad import SquadParagraph, SquadQuestion, read_squad
from qa.train.augment import (
    answer_removed,
    code_switch,
    gold_variants,
    retriever_negatives,
    script_copies,
    training_mix,
    translated,
    unanswerable,
)
from qa.train.data import TrainConfig, featurize


def _question(qid: str, title: str, pid: str, context: str, question: str, answer: str) -> SquadQuestion:
    return SquadQuestion(qid, question, SquadParagraph(pid, title, context), (answer,), (context.find(answer),))


GRAIN = _question("g-1", "糧食", "g-p1", "黑海倡議運出了3200萬噸穀物和其他食品。", "運出了多少穀物?", "3200萬噸")
PORT = _question("g-2", "糧食", "g-p2", "船隻從敖德薩港出發,駛向土耳其海峽。", "船隻從哪個港口出發?", "敖德薩港")
SCHOOL = _question("s-1", "學校", "s-p1", "新學校在九月開學,共招收了四百名學生。", "學校招收了多少學生?", "四百名學生")


def test_code_switch_replaces_dictionary_words_by_their_gloss():
    rng = random.Random(0)
    assert code_switch("誰發明了電池?", 0.0, rng) == "誰發明了電池?"
    switched = code_switch("誰發明了電池?", 1.0, rng)
    assert "who" in switched and "battery" in switched and "電池" not in switched


def test_unanswerable_pairs_use_another_paragraph_of_the_article_without_the_answer():
    pairs = unanswerable([GRAIN, PORT, SCHOOL], random.Random(0))
    assert {q.id for q in pairs} == {"g-1-na", "g-2-na"}  # the school article has one paragraph only
    for q in pairs:
        original = {"g-1-na": GRAIN, "g-2-na": PORT}[q.id]
        assert q.paragraph.title == original.paragraph.title and q.paragraph.id != original.paragraph.id
        assert q.answers == () and original.answers[0] not in q.paragraph.context


FUND = _question("f-1", "基金", "f-p1",
                 "建設和平基金成立於2006年。該基金在2022年批准了2.31億美元,支持了32個國家的建設和平項目與地方機構。",
                 "建設和平基金是哪一年成立的?", "2006年")


def test_answer_removed_cuts_the_answer_sentence_and_keeps_the_rest_of_the_paragraph():
    (cut,) = answer_removed([FUND, GRAIN])  # GRAIN is one sentence: nothing would be left
    assert cut.id == "f-1-ar" and cut.question == FUND.question and cut.answers == ()
    assert cut.paragraph.context == "該基金在2022年批准了2.31億美元,支持了32個國家的建設和平項目與地方機構。"
    assert cut.paragraph.title == FUND.paragraph.title and cut.paragraph.id != FUND.paragraph.id


def test_english_answer_removed_questions_are_bridged_to_the_cut_paragraph():
    english = {"f-1": "When was the Peacebuilding Fund set up? How many countries did the fund support?"}
    (cut,) = answer_removed([FUND, PORT], english)  # PORT has no translation
    assert cut.id == "f-1-en-ar" and cut.question.startswith(english["f-1"]) and cut.answers == ()
    assert "2006" not in cut.paragraph.context


def test_retriever_negatives_pair_a_question_with_its_mined_paragraph_and_no_answer():
    mined = [{"id": "g-1", "paragraph": "g-p2", "rank": 1, "language": "zh"},
             {"id": "g-2", "paragraph": "g-p2", "rank": 2, "language": "zh"},  # its own paragraph: answers it
             {"id": "g-1", "paragraph": "held-p", "rank": 1, "language": "zh"},  # not a training paragraph
             {"id": "f-1", "paragraph": "g-p1", "rank": 1, "language": "en"},
             {"id": "s-1", "paragraph": "g-p1", "rank": 3, "language": "en"}]  # no translation
    (chinese,) = retriever_negatives([GRAIN, PORT, SCHOOL, FUND], mined, "zh")
    assert chinese.id == "g-1-hn" and chinese.question == GRAIN.question and chinese.answers == ()
    assert chinese.paragraph == PORT.paragraph
    english = {"f-1": "When was the Peacebuilding Fund set up?"}
    (bridged,) = retriever_negatives([GRAIN, PORT, SCHOOL, FUND], mined, "en", english)
    assert bridged.id == "f-1-en-hn" and bridged.question.startswith(english["f-1"])
    assert bridged.paragraph == GRAIN.paragraph and bridged.answers == ()


def test_script_copies_are_the_whole_question_in_the_other_script_with_offsets_kept():
    simplified = _question("c-1", "粮食", "c-p1", "黑海倡议运出了3200万吨谷物。", "运出了多少谷物?", "3200万吨")
    copies = {q.id: q for q in script_copies([GRAIN, simplified])}
    assert copies["g-1-sc"].paragraph.context == "黑海倡议运出了3200万吨谷物和其他食品。"
    assert copies["g-1-sc"].question == "运出了多少谷物?" and copies["g-1-sc"].answers == ("3200万吨",)
    assert copies["c-1-sc"].paragraph.context == "黑海倡議運出了3200萬噸穀物。"
    for q in copies.values():
        (start,), (answer,) = q.starts, q.answers
        assert q.paragraph.context[start : start + len(answer)] == answer


def test_translated_questions_are_bridged_to_their_paragraph(tmp_path):
    path = tmp_path / "en.jsonl"
    path.write_text(json.dumps({"id": "g-1", "question": "How much grain was shipped?"}) + "\n", encoding="utf-8")
    (english,) = translated([GRAIN, PORT], path)
    assert english.id == "g-1-en" and english.question == "How much grain was shipped? (穀物)"
    assert english.paragraph == GRAIN.paragraph and english.starts == GRAIN.starts


def test_gold_variants_are_one_copy_per_other_distinct_answer_with_its_own_offset():
    context = "黑海倡議運出了3200萬噸穀物和其他食品。"
    q = SquadQuestion("v-1", "運出了多少?", SquadParagraph("v-p", "糧食", context),
                      ("3200萬噸", "3200萬噸穀物", "3200萬噸"), (7, 7, 7))
    (copy,) = gold_variants([q, GRAIN])
    assert copy.id == "v-1-gv1" and copy.answers == ("3200萬噸穀物",)
    assert context[copy.starts[0] : copy.starts[0] + len(copy.answers[0])] == "3200萬噸穀物"


def test_a_question_without_answers_targets_no_answer_in_every_window(packaged_tokenizer):
    (pair,) = [q for q in unanswerable([GRAIN, PORT], random.Random(0)) if q.id == "g-1-na"]
    features = featurize(packaged_tokenizer, [GRAIN, pair], TrainConfig())
    assert features["start"].tolist()[0] > 0 and features["start"].tolist()[1:] == [0]
    assert features["end"].tolist()[1:] == [0]


def test_training_mix_holds_what_the_recipe_asks_for(tmp_path):
    squad = tmp_path / "squad.json"
    context = "The bridge opened in 2021 and is 1,200 metres long."
    qas = [{"id": f"e{i}", "question": f"When did the bridge open? {i}", "answers": [{"text": "2021",
            "answer_start": context.find("2021")}]} for i in range(5)]
    squad.write_text(json.dumps({"data": [{"title": "b", "paragraphs": [{"context": context, "qas": qas}]}]}))
    translations = tmp_path / "en.jsonl"
    translations.write_text(json.dumps({"id": "f-1", "question": "When was the fund set up?"}) + "\n")
    mined = tmp_path / "negatives.jsonl"
    mined.write_text(json.dumps({"id": "g-1", "paragraph": "s-p1", "rank": 1, "language": "zh"}) + "\n"
                     + json.dumps({"id": "f-1", "paragraph": "g-p1", "rank": 1, "language": "en"}) + "\n")
    recipe = {"chinese": 2, "translations": [str(translations)], "code_switched": 2, "code_switch_share": 1.0,
              "unanswerable": 1, "retriever_negatives": str(mined), "retriever_negatives_chinese": 5,
              "retriever_negatives_english": 5, "answer_removed": 5, "answer_removed_english": 5, "script_copies": 1,
              "english_squad": str(squad), "english_squad_questions": 3}
    mix, counts = training_mix([GRAIN, PORT, SCHOOL, FUND], recipe, seed=13)
    assert counts == {"chinese": 2, "translated": 1, "code_switched": 2, "unanswerable": 1,
                      "retriever_negatives_chinese": 1, "retriever_negatives_english": 1, "answer_removed": 1,
                      "answer_removed_english": 1, "script_copies": 1, "english_squad": 3}
    assert len(mix) == 14 and len({q.id for q in mix}) == 14
    _, english = read_squad(squad)
    assert {q.id for q in mix if q.id.startswith("e")} <= {q.id for q in english}


def test_a_sample_seed_draws_other_questions_than_the_split_seed():
    picks = {frozenset(q.id for q in training_mix([GRAIN, PORT, SCHOOL, FUND], recipe, seed=13)[0])
             for recipe in ({"chinese": 2}, {"chinese": 2, "sample_seed": 13}, {"chinese": 2, "sample_seed": 2})}
    assert len(picks) == 2  # sample_seed 13 repeats seed 13; another sample_seed draws another pair


@pytest.fixture(scope="module")
def packaged_tokenizer(settings):
    from transformers import AutoTokenizer

    from embeddings.e5_package import ensure_packaged_model

    return AutoTokenizer.from_pretrained(str(ensure_packaged_model(settings.model_cache_dir)))  # as training does
