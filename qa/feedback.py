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
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from qa.config import Settings
from qa.language.text import fold, has_cjk, normalize_answer
from qa.storage.base import passage_by_id
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
    corpus_sha256 TEXT,
    client TEXT
)
"""
QUOTA_WINDOW = timedelta(hours=24)
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


class FeedbackError(ValueError):
    """The feedback store can't be used; the message names the file and what is wrong."""


class QuotaExceeded(Exception):
    """The client has posted its QA_FEEDBACK_QUOTA in the last 24 hours; it may post again in `retry_after_s`."""

    def __init__(self, quota: int, retry_after_s: float) -> None:
        super().__init__(f"this client has sent {quota} feedback records in 24 hours, the most it may")
        self.retry_after_s = retry_after_s


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
    client: str | None = None  # who sent it: "key:<digest prefix>" or "ip:<address>", never a key


def resolve_feedback(index, passage_id: str | None, paragraph: int | None, correct_paragraph: int | str | None
                     ) -> tuple[str | None, int | str | None, str | None]:
    """(box title of the cited passage, the correction as an eval reference, corpus checksum), checked
    against the loaded index: the cited passage, its paragraph and the correction must all be in the
    document (and agree), or it is an InputError, so nothing made up reaches the eval set."""
    cited = passage_by_id(index, passage_id) if passage_id else None
    if passage_id and cited is None:
        raise InputError(f"no passage {passage_id!r} in the document", "passage_id")
    if paragraph is not None:
        if cited is not None and cited.paragraph != paragraph:
            raise InputError(f"passage {passage_id!r} is paragraph {cited.paragraph}, not {paragraph}", "paragraph")
        if cited is None and index.find(paragraph=paragraph) is None:
            raise InputError(f"the document has no paragraph {paragraph}", "paragraph")
    gold: int | str | None = None
    ref = correct_paragraph
    if isinstance(ref, int):
        if index.find(paragraph=ref) is None:
            raise InputError(f"correct_paragraph: the document has no paragraph {ref}")
        gold = ref
    elif isinstance(ref, str):
        if ref.startswith("box:"):
            title = ref[4:].strip()
            match = index.find(box=title)
        else:
            match = passage_by_id(index, ref)
        if match is None:
            raise InputError(f"correct_paragraph: no paragraph, box or passage {ref!r} in the document")
        gold = passage_reference(match.paragraph, match.box, match.id)
    return cited.box if cited else None, gold, index.manifest.get("corpus_sha256")


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

    def __init__(self, path: Path, quota: int = 0) -> None:
        self.path, self.quota = Path(path), quota

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10)
            conn.execute(_SCHEMA)
            if "client" not in {r[1] for r in conn.execute("PRAGMA table_info(feedback)")}:
                conn.execute("ALTER TABLE feedback ADD COLUMN client TEXT")  # a store from before quotas
            conn.execute("CREATE INDEX IF NOT EXISTS feedback_client ON feedback (client, created)")
        except (OSError, sqlite3.Error) as exc:
            raise FeedbackError(f"{self.path}: cannot open the feedback store ({exc})") from exc
        conn.row_factory = sqlite3.Row
        return conn

    def add(self, feedback: Feedback) -> int:
        """Store one record; with a quota (QA_FEEDBACK_QUOTA), QuotaExceeded when its client already sent
        that many in the last 24 hours (counted and written in one transaction: parallel posts can't overshoot)."""
        row = asdict(feedback)
        row["helpful"] = int(feedback.helpful)
        for key in ("correct_paragraph", "gold"):
            row[key] = None if row[key] is None else json.dumps(row[key], ensure_ascii=False)
        now = datetime.now(UTC)
        row["created"] = now.strftime(_STAMP)
        columns = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with closing(self._connect()) as conn, conn:
            conn.execute("BEGIN IMMEDIATE")
            if self.quota and feedback.client:
                since = (now - QUOTA_WINDOW).strftime(_STAMP)
                count, oldest = conn.execute("SELECT COUNT(*), MIN(created) FROM feedback WHERE client = ? "
                                             "AND created > ?", (feedback.client, since)).fetchone()
                if count >= self.quota:
                    freed = datetime.strptime(oldest, _STAMP).replace(tzinfo=UTC) + QUOTA_WINDOW
                    raise QuotaExceeded(self.quota, (freed - now).total_seconds())
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
    out.update(source="feedback", feedback_id=r["id"], created=r["created"], client=r["client"])
    return out
