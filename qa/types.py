"""The domain's small, frozen data types."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


class InputError(ValueError):
    """Something a caller sent can't be used as given; the message says why (an HTTP 422, a CLI error).
    `field` names the request field at fault, for the API's `field: message` line."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Passage:
    """One citable unit of a document: a numbered paragraph, a boxed sidebar or a footnote."""

    id: str  # stable: "p119", "box-3", "fn1", or the id a user's file gives
    text: str  # exactly as in the document
    order: int  # position in the document
    paragraph: int | None = None
    box: str | None = None  # box title, for sidebars
    section: str | None = None  # e.g. "E. 有效協調人道主義援助"
    heading: str | None = None  # the sub-heading inside the section, e.g. "氣候行動"
    after: int | None = None  # for boxes and footnotes: the paragraph they follow or annotate

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and what each retriever thought of it."""

    passage: Passage
    score: float
    dense_score: float | None = None
    sparse_score: float | None = None
    dense_rank: int | None = None  # 1-based; None when outside that retriever's candidates
    sparse_rank: int | None = None
    focus: tuple[int, int] | None = None  # char span of the passage's sentence closest to the question
    candidates: int = 0  # how many passages `score` was z-normalised over


@dataclass(frozen=True)
class Answer:
    """A verbatim span of a passage: `passage.text[start:end] == text` always holds."""

    text: str
    score: float  # how likely the answer is right, 0-1 (`qa/reading/confidence.py`); `no_answer` is decided on it
    passage: Passage
    start: int
    end: int
    context: str  # a window of the passage around the span
    span_probability: float | None = None  # the reader's probability for the span within its window


@dataclass
class AskResult:
    question: str
    answers: list[Answer]
    hits: list[Hit]
    no_answer: bool
    timings_ms: dict[str, float] = field(default_factory=dict)
    tokens_read: int = 0  # tokens the reader ran over (padding included): what reading cost
    unmatched_numbers: list[str] = field(default_factory=list)  # named by the question, held by no passage found
