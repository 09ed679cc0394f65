"""The metric definitions of docs/EVAL.md, on its own examples and on hand-made results: pure and fast."""

from __future__ import annotations

import pytest

from qa.eval.backends import Response
from qa.eval.calibration import best_threshold, threshold_summary
from qa.eval.compare import compare, paired_bootstrap
from qa.eval.metrics import exact_match, f1_score, tokenize
from qa.eval.questions import EvalQuestion, PassageRef
from qa.eval.score import miss_reason, mrr_at, percentile, question_record, recall_at, summarise
from qa.language.text import normalize_answer

# --- answer metrics: the examples EVAL.md gives -------------------------------------------------


def test_reversed_characters_score_one_third():
    # the longest common contiguous run of 甲乙丙 and 丙乙甲 is one character
    assert f1_score("丙乙甲", ["甲乙丙"]) == pytest.approx(1 / 3)
    assert exact_match("丙乙甲", ["甲乙丙"]) == 0.0


def test_partial_date_scores_two_thirds():
    # 2015年 -> [2015, 年]; 2015年9月 -> [2015, 年, 9, 月]: P = 1, R = 1/2
    assert f1_score("2015年", ["2015年9月"]) == pytest.approx(2 / 3)
    assert f1_score("2015年9月", ["2015年"]) == pytest.approx(2 / 3)


def test_a_latin_or_digit_run_is_one_token():
    assert tokenize("COVID-19疫苗") == ["covid", "19", "疫", "苗"]
    assert tokenize("3200多萬噸") == ["3200", "多", "萬", "噸"]


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        ("１６億", "16億"),  # full-width digits
        ("「學習，發聲，行動！」", "「學習,發聲,行動!」"),  # full- vs half-width punctuation
        ("ＵＮＤＰ", "undp"),  # width and case
        ("近 1.6 億", "近1.6億"),  # whitespace
    ],
)
def test_width_case_space_and_punctuation_fold(prediction, gold):
    assert exact_match(prediction, [gold]) == 1.0
    assert f1_score(prediction, [gold]) == 1.0


def test_normalize_strips_both_kinds_of_punctuation():
    assert normalize_answer("《聯合國憲章》、「目標」（2030）…") == "聯合國憲章目標2030"


def test_best_gold_counts():
    assert exact_match("1.6億", ["近1.6億", "1.6億"]) == 1.0
    assert f1_score("約1.6億", ["近1.6億", "1.6億"]) == pytest.approx(f1_score("約1.6億", ["1.6億"]))


@pytest.mark.parametrize(
    ("prediction", "golds", "score"),
    [
        ("", [], 1.0),  # unanswerable, and the system said so
        ("  ", [], 1.0),
        ("300億美元", [], 0.0),  # unanswerable, but it answered
        ("", ["300億美元"], 0.0),  # answerable, but it abstained
    ],
)
def test_unanswerable_scoring(prediction, golds, score):
    assert exact_match(prediction, golds) == score
    assert f1_score(prediction, golds) == score


# --- retrieval and latency ----------------------------------------------------------------------


def test_recall_and_mrr():
    ranks = [1, 2, None, 4, 10, 11]  # 11: outside the ten retrieved, counts as not found
    assert recall_at(ranks, 1) == pytest.approx(1 / 6)
    assert recall_at(ranks, 3) == pytest.approx(2 / 6)
    assert recall_at(ranks, 5) == pytest.approx(3 / 6)
    assert recall_at(ranks, 10) == pytest.approx(4 / 6)
    assert mrr_at(ranks, 10) == pytest.approx((1 + 1 / 2 + 1 / 4 + 1 / 10) / 6)
    assert recall_at([], 1) is None and mrr_at([], 10) is None


def test_percentiles():
    values = list(range(1, 101))
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([], 50) is None


# --- gold passages ------------------------------------------------------------------------------


def test_gold_matching():
    para = EvalQuestion("a", "q", ("x",), 7)
    box = EvalQuestion("b", "q", ("x",), "box:终结塑料污染")
    pid = EvalQuestion("c", "q", ("x",), "id:1147-5")
    assert para.matches(PassageRef("p7", paragraph=7)) and not para.matches(PassageRef("p8", paragraph=8))
    assert box.matches(PassageRef("box-1", box="终结塑料污染 ")) and not box.matches(PassageRef("p7", paragraph=7))
    assert pid.matches(PassageRef("1147-5")) and not pid.matches(PassageRef("1147-6"))
    assert not EvalQuestion("d", "q", ()).matches(PassageRef("p7", paragraph=7))


# --- per-question records and their summary -----------------------------------------------------


def _rec(answers, gold, answer, score, cited=None, hits=(), threshold=0.1, qtype=None):
    q = EvalQuestion(f"q{id(answers)}{answer}{score}", "問題", tuple(answers), gold, qtype, "traditional")
    ref = PassageRef(f"p{cited}", paragraph=cited) if cited is not None else None
    hit_refs = [PassageRef(f"p{h}", paragraph=h) for h in hits]
    return question_record(q, Response(answer, score, ref, hit_refs, latency_ms=100.0), threshold, read_k=3,
                   retrieval_only=False)


def test_record_applies_the_threshold_and_explains_misses():
    right = _rec(["80億"], 35, "80億", 0.9, cited=35, hits=[35, 1])
    assert right["prediction"] == "80億" and right["em"] == 1.0 and right["citation_correct"] and not right["miss"]
    withheld = _rec(["80億"], 35, "80億", 0.05, cited=35, hits=[35])
    assert withheld["prediction"] == "" and withheld["em"] == 0.0 and withheld["reason"] == "abstained"
    assert withheld["citation_correct"] is False
    partial = _rec(["2015年9月"], 4, "2015年", 0.5, cited=4, hits=[4])
    assert partial["reason"] == "span boundary" and partial["f1"] == pytest.approx(2 / 3)
    unread = _rec(["x"], 9, "y", 0.5, cited=1, hits=[1, 2, 3, 9])
    assert unread["gold_rank"] == 4 and unread["reason"] == "retrieval"
    other = _rec(["x"], 2, "y", 0.5, cited=1, hits=[1, 2])
    assert other["reason"] == "wrong passage"
    false_answer = _rec([], None, "y", 0.5, cited=1, hits=[1])
    assert false_answer["reason"] == "false answer" and false_answer["citation_correct"] is None
    quiet = _rec([], None, "y", 0.05, cited=1, hits=[1])
    assert quiet["prediction"] == "" and quiet["em"] == 1.0 and not quiet["miss"]
    assert miss_reason(right, 3) == (None, "")


def test_summary_hasans_noans_and_citation():
    records = [
        _rec(["80億"], 35, "80億", 0.9, cited=35, hits=[35], qtype="number"),
        _rec(["2015年9月"], 4, "2015年", 0.6, cited=4, hits=[2, 4], qtype="date"),
        _rec(["x"], 9, "y", 0.05, cited=1, hits=[1], qtype="entity"),  # withheld, gold not retrieved
        _rec([], None, "z", 0.5, cited=1, hits=[1], qtype="unanswerable"),  # answered: wrong
    ]
    m = summarise(records, threshold=0.1, read_k=3)
    metrics = m["metrics"]
    assert metrics["has_ans"]["n"] == 3 and metrics["no_ans"]["n"] == 1
    assert metrics["has_ans"]["em"] == pytest.approx(100 / 3)
    assert metrics["has_ans"]["f1"] == pytest.approx(100 * (1 + 2 / 3 + 0) / 3)
    assert metrics["no_ans"]["f1"] == 0.0
    assert metrics["em"] == pytest.approx(25.0)
    assert metrics["f1"] == pytest.approx(100 * (1 + 2 / 3) / 4)
    # abstained on answerable #3 (wrong call) and answered unanswerable #4 (wrong call)
    assert metrics["no_answer_accuracy"] == pytest.approx(50.0)
    assert metrics["answerable_withheld"] == pytest.approx(100 / 3)  # one answerable of three got no answer
    assert metrics["citation_accuracy"] == pytest.approx(200 / 3)
    assert metrics["retrieval"]["recall@1"] == pytest.approx(1 / 3)
    assert metrics["retrieval"]["recall@3"] == pytest.approx(2 / 3)
    assert metrics["retrieval"]["mrr@10"] == pytest.approx((1 + 1 / 2) / 3)
    assert metrics["latency_ms"]["p50"] == 100.0
    assert set(m["by_type"]) == {"number", "date", "entity", "unanswerable"}
    assert m["by_type"]["unanswerable"]["citation_accuracy"] is None
    assert m["misses_by_reason"] == {"span boundary": 1, "retrieval": 1, "false answer": 1}


def test_best_threshold_maximises_f1():
    records = [
        _rec(["a"], 1, "a", 0.9, cited=1, hits=[1]),  # right, confident
        _rec(["b"], 2, "c", 0.2, cited=2, hits=[2]),  # wrong, unsure
        _rec([], None, "d", 0.3, cited=3, hits=[3]),  # unanswerable, answered
        _rec([], None, "e", 0.1, cited=3, hits=[3]),  # unanswerable, answered
    ]
    at_zero = threshold_summary(records, 0.0)
    assert at_zero["f1"] == pytest.approx(25.0) and at_zero["answered"] == 100.0
    best = best_threshold(records)
    # withholding everything below 0.9 keeps the right answer and turns both unanswerables right
    assert best["threshold"] == pytest.approx(0.9) and best["f1"] == pytest.approx(75.0)
    assert best["no_ans_f1"] == 100.0 and best["has_ans_f1"] == 50.0
    # coverage vs accuracy: one of four shown answers is right at 0; the one shown at 0.9 is right
    assert at_zero["answered_accuracy"] == pytest.approx(25.0) and best["answered_accuracy"] == 100.0
    assert threshold_summary(records, 0.95)["f1"] == pytest.approx(50.0)  # nothing answered
    # any threshold in (0.3, 0.9] does as well: the configured one is kept when it is among them
    assert best_threshold(records, prefer=0.5)["threshold"] == 0.5
    assert best_threshold(records, prefer=0.05)["threshold"] == pytest.approx(0.9)


# --- comparing two results ----------------------------------------------------------------------


def _result(records):
    out = summarise(records, 0.1, 3)
    return {**out, "questions": records, "dataset": {"name": "x", "sha256": "s"},
            "system": {"no_answer_threshold": 0.1, "machine": {"cpu": "c"}}}


def test_compare_reports_fixed_and_broken_questions():
    old = [_rec(["a"], 1, "a", 0.9, cited=1, hits=[1]), _rec(["b"], 2, "x", 0.9, cited=2, hits=[2])]
    new = [dict(old[0]), _rec(["b"], 2, "b", 0.9, cited=2, hits=[2])]
    new[1]["id"] = old[1]["id"]
    diff = compare(_result(old), _result(new))
    assert [q["kind"] for q in diff["questions"]] == ["fixed"]
    f1 = next(r for r in diff["metrics"] if r["metric"] == "f1")
    assert f1["delta"] == pytest.approx(50.0) and f1["verdict"] == "better"
    back = compare(_result(new), _result(old))
    assert [q["kind"] for q in back["questions"]] == ["broken"]
    assert next(r for r in back["metrics"] if r["metric"] == "em")["verdict"] == "worse"
    same = compare(_result(old), _result(old))
    assert same["questions"] == [] and same["verdict"].startswith("no clear change")


def test_paired_bootstrap_sees_a_consistent_gain():
    mean, lo, hi = paired_bootstrap([0.0] * 30, [1.0] * 20 + [0.0] * 10)
    assert mean == pytest.approx(2 / 3) and 0 < lo < mean < hi <= 1
    assert paired_bootstrap([1, 0], [1, 0]) == (0.0, 0.0, 0.0)
