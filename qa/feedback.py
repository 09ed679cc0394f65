"""Readers' feedback on answers, kept in SQLite beside the index folder (so rebuilding the index,
which replaces that folder, keeps it) and exported as eval questions to grow the eval set from use."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import unicodedata
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from qa.config import Settings
from qa.text import fold, has_cjk, normalize_answer
from qa.types import InputError

log = logging.getLogger(__name__)

FEEDBACK_SUFFIX = ".feedback.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT,
    passage_id TEXT,
    paragraph INTEGER,
    box TEXT,
    helpful INTEGER NOT NULL,
    correct_answer TEXT,
    correct_paragraph TEXT,
    gold TEXT,
    corpus_sha256 TEXT
)
"""


class FeedbackError(ValueError):
    """The feedback store can't be used; the message names the file and what is wrong."""


def feedback_path(settings: Settings) -> Path:
    """Beside the index folder, named after it: each index (document) keeps its own feedback."""
    index_dir = Path(settings.resolved_index_dir)
    return index_dir.parent / f"{index_dir.name}{FEEDBACK_SUFFIX}"


@dataclass(frozen=True)
class Feedback:
    """One reader's verdict on one answer, with the correction they offered, if any."""

    question: str
    helpful: bool
    answer: str | None = None  # the answer shown; None when the service said it had none
    passage_id: str | None = None  # the passage that answer cited
    paragraph: int | None = None
    box: str | None = None  # the cited passage's box title (resolved by the API from passage_id)
    correct_answer: str | None = None
    correct_paragraph: int | str | None = None  # as the reader gave it
    gold: int | str | None = None  # correct_paragraph as an eval reference: N, "box:<title>" or "id:<passage id>"
    corpus_sha256: str | None = None  # the document the feedback is about


def resolve_feedback(index, passage_id: str | None, correct_paragraph: int | str | None
                     ) -> tuple[str | None, int | str | None, str | None]:
    """(box title of the cited passage, the correction as an eval reference, corpus checksum) against a
    loaded index; a correction naming no passage of the document is an InputError."""
    if index is None:  # not loaded: store as given
        gold = correct_paragraph
        return None, gold if isinstance(gold, int) or gold is None or gold.startswith("box:") else f"id:{gold}", None
    cited = index.by_id(passage_id) if passage_id else None
    box = cited.box if cited else None
    gold: int | str | None = None
    ref = correct_paragraph
    if isinstance(ref, int):
        if not any(p.paragraph == ref for p in index.passages):
            raise InputError(f"correct_paragraph: the document has no paragraph {ref}")
        gold = ref
    elif isinstance(ref, str):
        if ref.startswith("box:"):
            title = ref[4:].strip()
            match = next((p for p in index.passages if (p.box or "").rstrip() == title), None)
        else:
            match = index.by_id(ref)
        if match is None:
            raise InputError(f"correct_paragraph: no paragraph, box or passage {ref!r} in the document")
        gold = passage_reference(match.paragraph, match.box, match.id)
    return box, gold, index.manifest.get("corpus_sha256")


def passage_reference(paragraph: int | None, box: str | None, passage_id: str | None) -> int | str | None:
    """How the eval format cites a passage: its paragraph number, else its box title, else its id."""
    if paragraph is not None:
        return paragraph
    if box:
        return f"box:{box.rstrip()}"
    return f"id:{passage_id}" if passage_id else None


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def guess_script(text: str) -> str | None:
    """The eval set's `script` label where the text decides it (None when it doesn't)."""
    if not has_cjk(text):
        return "english"
    if re.search(r"[A-Za-z]{3,}", text):
        return "mixed"
    plain = unicodedata.normalize("NFKC", text).lower()
    if fold(plain) != plain:  # fold converts Traditional to Simplified: something changed
        return "traditional"
    if _s2t().convert(plain) != plain:
        return "simplified"
    return None


class FeedbackStore:
    """A small SQLite table; one short-lived connection per call, so any thread may use it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10)
            conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise FeedbackError(f"{self.path}: cannot open the feedback store ({exc})") from exc
        conn.row_factory = sqlite3.Row
        return conn

    def add(self, feedback: Feedback) -> int:
        row = asdict(feedback)
        row["helpful"] = int(feedback.helpful)
        for key in ("correct_paragraph", "gold"):
            row[key] = None if row[key] is None else json.dumps(row[key], ensure_ascii=False)
        row["created"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        columns = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with closing(self._connect()) as conn, conn:
            cursor = conn.execute(f"INSERT INTO feedback ({columns}) VALUES ({marks})", row)
            return int(cursor.lastrowid)

    def rows(self) -> list[dict]:
        """Everything stored, oldest first (empty when nothing was ever posted)."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as conn:
            out = [dict(r) for r in conn.execute("SELECT * FROM feedback ORDER BY id")]
        for r in out:
            r["helpful"] = bool(r["helpful"])
            for key in ("correct_paragraph", "gold"):
                r[key] = None if r[key] is None else json.loads(r[key])
        return out

    def export_rows(self) -> tuple[list[dict], int]:
        """Eval questions (docs/EVAL.md's JSONL) from the feedback, and how many rows gave none.

        A helpful answer becomes its own gold; an unhelpful one counts only with a correction;
        "no answer" marked helpful is an unanswerable question; the latest verdict on a question wins."""
        latest: dict[str, dict] = {}
        rows = self.rows()
        for r in rows:
            question = _eval_question(r)
            if question is not None:
                latest[normalize_answer(r["question"]) or r["question"]] = question
        exported = sorted(latest.values(), key=lambda q: q["feedback_id"])
        return exported, len(rows) - len(exported)


def _eval_question(r: dict) -> dict | None:
    if r["helpful"]:
        if r["answer"]:
            answers, gold = [r["answer"]], passage_reference(r["paragraph"], r["box"], r["passage_id"])
        else:
            answers, gold = [], None  # "the document doesn't say", and the reader agreed
    elif r["correct_answer"]:
        answers, gold = [r["correct_answer"]], r["gold"]
    else:
        return None
    out = {"id": f"fb-{r['id']}", "question": r["question"], "answers": answers, "paragraph": gold}
    if not answers:
        out["type"] = "unanswerable"
    script = guess_script(r["question"])
    if script:
        out["script"] = script
    out.update(source="feedback", feedback_id=r["id"], created=r["created"])
    return out
