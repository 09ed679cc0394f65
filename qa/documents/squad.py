"""Reading SQuAD-format JSON (DRCD, CMRC 2018): the one parser that corpus loading, training
and evaluation share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


class SquadFormatError(ValueError):
    """The file is not SQuAD-format JSON; the message names the file and what is wrong."""


@dataclass(frozen=True)
class SquadParagraph:
    id: str
    title: str
    context: str


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    paragraph: SquadParagraph
    answers: tuple[str, ...]
    # character offsets of each answer in the context; located by text where the file's are wrong
    starts: tuple[int, ...]


def is_squad_json(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("data"), list)


def _locate(context: str, text: str, claimed: int) -> int:
    """The file's offset if it points at the text, else the occurrence nearest to it (-1: none)."""
    if context[claimed : claimed + len(text)] == text:
        return claimed
    found, best = context.find(text), -1
    while found != -1:
        if best == -1 or abs(found - claimed) < abs(best - claimed):
            best = found
        found = context.find(text, found + 1)
    return best


def read_squad(path: Path) -> tuple[list[SquadParagraph], list[SquadQuestion]]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SquadFormatError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not is_squad_json(data):
        raise SquadFormatError(f"{path}: expected SQuAD format, an object with a 'data' list")
    paragraphs: list[SquadParagraph] = []
    questions: list[SquadQuestion] = []
    for a, article in enumerate(data["data"]):
        for p, para in enumerate(article.get("paragraphs", [])):
            if not isinstance(para, dict) or not isinstance(para.get("context"), str):
                raise SquadFormatError(f"{path}: data[{a}].paragraphs[{p}] has no 'context' string")
            paragraph = SquadParagraph(
                id=str(para.get("id", f"{a}-{p}")), title=str(article.get("title", "")), context=para["context"]
            )
            paragraphs.append(paragraph)
            for qa in para.get("qas", []):
                texts, starts = [], []
                for ans in qa.get("answers", []):
                    start = _locate(paragraph.context, ans["text"], int(ans.get("answer_start", 0)))
                    if start >= 0 and ans["text"].strip():
                        texts.append(ans["text"])
                        starts.append(start)
                if qa.get("answers") and not texts:
                    continue  # every gold span is absent from its context: unusable
                questions.append(SquadQuestion(str(qa["id"]), qa["question"], paragraph, tuple(texts), tuple(starts)))
    return paragraphs, questions
