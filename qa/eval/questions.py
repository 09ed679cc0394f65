"""Question sets: the project's JSON lines and SQuAD-format JSON, read into `EvalQuestion`s.

Two formats are read (`load_dataset`; docs/EVAL.md describes them):
- the project's JSON lines, one `{"id", "question", "answers", "paragraph", "type", "script"}`
  object a line, where `paragraph` is the gold paragraph number, `"box:<title>"` for a boxed
  sidebar, `"id:<passage id>"` for corpora without paragraph numbers, or null; `answers` [] with
  `paragraph` null means the document does not answer the question;
- SQuAD-format JSON (DRCD, CMRC 2018), where the gold passage is the question's paragraph id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.documents.squad import SquadFormatError, is_squad_json, read_squad
from qa.types import Turn


class EvalError(ValueError):
    """Evaluation can't go on (bad data set, unreachable deployment); the message says why in a line."""


@dataclass(frozen=True)
class PassageRef:
    """Enough of a passage to cite it and to match it against a gold reference."""

    id: str
    paragraph: int | None = None
    box: str | None = None
    file: str | None = None  # the document's file, as indexed
    document: str | None = None  # the document's id
    page: int | None = None  # where the answer is, in a paged document

    @property
    def label(self) -> str:
        if self.paragraph is not None:
            return f"第{self.paragraph}段"
        return f"box:{self.box}" if self.box else self.id

    @classmethod
    def from_dict(cls, d: dict) -> PassageRef:
        document = d.get("document") or {}
        return cls(id=str(d.get("id", "")), paragraph=d.get("paragraph"), box=d.get("box"), file=document.get("file"),
                   document=document.get("id"), page=d.get("page"))


@dataclass(frozen=True)
class EvalQuestion:
    """One question with its gold answers and gold passage.

    `gold` is how the data set cites the passage: a paragraph number, "box:<title>",
    "id:<passage id>", or None (unanswerable, or answerable with no passage given)."""

    id: str
    question: str
    answers: tuple[str, ...]
    gold: int | str | None = None
    type: str | None = None
    script: str | None = None
    document: str | None = None  # the file that answers it (its name, or its path as indexed), for a collection
    page: int | None = None  # the page of that file (PDF) where the answer is
    history: tuple[Turn, ...] = ()  # a conversation item: the turns before this question, sent with it
    standalone: str | None = None  # the same question written out in full, to ask alone

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def gold_label(self) -> str:
        if self.gold is None:
            return ""
        return f"第{self.gold}段" if isinstance(self.gold, int) else self.gold

    def matches(self, ref: PassageRef | None) -> bool:
        """Whether `ref` is the gold passage (boxes match on their title line, trailing space stripped)."""
        if ref is None or self.gold is None:
            return False
        if isinstance(self.gold, int):
            return ref.paragraph == self.gold
        if self.gold.startswith("box:"):
            return ref.box is not None and ref.box.rstrip() == self.gold[4:].rstrip()
        gold = self.gold[3:]  # a SQuAD paragraph's id: the passage's id within its document
        return ref.id == gold or ref.id.split(":", 1)[-1] == gold

    def cites_document(self, ref: PassageRef | None) -> bool:
        """Whether `ref` is in the gold document (by its file, a path ending in it, or its id)."""
        if ref is None or self.document is None:
            return False
        file = ref.file or ""
        return self.document in (file, ref.document) or file.endswith("/" + self.document)

    def cites_page(self, ref: PassageRef | None) -> bool:
        return self.cites_document(ref) and self.page is not None and ref.page == self.page

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"id": self.id, "question": self.question, "answers": list(self.answers),
                               "paragraph": self.gold}
        if self.document is not None:
            out |= {"document": self.document, "page": self.page}
        if self.type is not None:
            out["type"] = self.type
        if self.script is not None:
            out["script"] = self.script
        return out


def dataset_format(path: Path) -> str:
    """Tell the two formats apart by content, so a SQuAD file needs no flag (.jsonl is always JSON lines)."""
    path = Path(path)
    if not path.is_file():
        raise EvalError(f"{path}: no such file")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return "jsonl"
    with path.open("rb") as fh:
        head = fh.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("{") and head[1:].lstrip().startswith('"data"'):
        return "squad"
    if head.startswith("["):
        raise EvalError(f"{path}: a JSON array is not supported; use JSON lines or SQuAD format")
    if head.startswith("{"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return "jsonl"  # several objects: JSON lines (the loader reports a bad line by number)
        if is_squad_json(data):
            return "squad"
        if isinstance(data, dict) and "question" not in data:
            raise EvalError(f"{path}: JSON but neither SQuAD format (a 'data' list) nor JSON lines of questions")
    return "jsonl"


def load_dataset(path: Path) -> list[EvalQuestion]:
    """Questions of a project JSONL or SQuAD-format file; EvalError names the file and line."""
    path = Path(path)
    if dataset_format(path) == "squad":
        try:
            _, questions = read_squad(path)
        except SquadFormatError as exc:
            raise EvalError(str(exc)) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise EvalError(f"{path}: unreadable ({exc})") from exc
        if not questions:
            raise EvalError(f"{path}: no questions found")
        return [
            EvalQuestion(q.id, q.question, q.answers, f"id:{q.paragraph.id}" if q.answers else None)
            for q in questions
        ]
    return _load_jsonl(path)


def _load_jsonl(path: Path) -> list[EvalQuestion]:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise EvalError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise EvalError(f"{where}: expected a JSON object")
        question = obj.get("question")
        if "turns" not in obj and (not isinstance(question, str) or not question.strip()):
            raise EvalError(f'{where}: "question" must be a non-empty string (or "turns": a conversation)')
        answers = obj.get("answers", [])
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise EvalError(f'{where}: "answers" must be a list of strings')
        answers = [a for a in answers if a.strip()]
        gold = obj.get("paragraph")
        ok = gold is None or (isinstance(gold, int) and not isinstance(gold, bool)) or (
            isinstance(gold, str) and gold.startswith(("box:", "id:")) and len(gold) > 4
        )
        if not ok:
            raise EvalError(f'{where}: "paragraph" must be a number, "box:<title>", "id:<passage id>" or null')
        if gold is not None and not answers:
            raise EvalError(f'{where}: a gold paragraph but no "answers"; an unanswerable question has paragraph null')
        history, standalone = (), None
        if "turns" in obj:  # a conversation: its last user turn is the question, the turns before it its history
            history, question = _conversation(obj["turns"], where)
            standalone = obj.get("standalone") if isinstance(obj.get("standalone"), str) else None
            obj = {**obj, "type": obj.get("kind", obj.get("type"))}
        qid = str(obj.get("id", f"line-{lineno}"))
        if qid in seen:
            raise EvalError(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        qtype, script = obj.get("type"), obj.get("script")
        document, page = obj.get("document"), obj.get("page")
        if document is not None and not (isinstance(document, str) and document.strip()):
            raise EvalError(f'{where}: "document" must be a file name or null')
        if page is not None and (not isinstance(page, int) or isinstance(page, bool) or page < 1 or document is None):
            raise EvalError(f'{where}: "page" must be a page number (1 or more) of the "document" named, or null')
        questions.append(
            EvalQuestion(qid, question, tuple(answers), gold,
                         str(qtype) if qtype is not None else None, str(script) if script is not None else None,
                         document, page, history, standalone)
        )
    if not questions:
        raise EvalError(f"{path}: no questions found")
    return questions


def _conversation(turns: object, where: str) -> tuple[tuple[Turn, ...], str]:
    """(history, question) of a conversation item's turns: user and assistant alternating, ending with the user's."""
    ok = isinstance(turns, list) and turns and all(
        isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
        and t["content"].strip() for t in turns)
    if not ok or turns[-1]["role"] != "user":
        raise EvalError(f'{where}: "turns" must be a list of {{"role": "user"|"assistant", "content"}} ending with '
                        "the user's question")
    return tuple(Turn(t["role"], t["content"]) for t in turns[:-1]), turns[-1]["content"]


def dataset_info(path: Path, questions: Sequence[EvalQuestion]) -> dict:
    path = Path(path)
    return {
        "path": str(path),
        "name": path.name,
        "format": dataset_format(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
