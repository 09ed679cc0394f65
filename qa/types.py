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
class DocumentRef:
    """Which document a passage comes from, as answers cite it."""

    id: str  # stable within an index: a slug of the file's name ("annual-report"), "-2" etc. on a clash
    title: str  # the document's own title (PDF metadata, <title>, the first heading), else its file name
    file: str  # the path relative to the folder indexed ("reports/annual-report.pdf"), or the file's name


@dataclass(frozen=True)
class Document:
    """A document in an index: what `GET /v1/documents` lists."""

    id: str
    title: str
    file: str
    sha256: str
    format: str  # "pdf", "docx", "html", "markdown", "report", "squad", "jsonl", "text"
    pages: int | None  # for paged formats (PDF)
    passages: int
    added: str  # UTC, ISO 8601

    @property
    def ref(self) -> DocumentRef:
        return DocumentRef(self.id, self.title, self.file)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """One citable unit of a document: a paragraph (numbered where the document numbers them), a boxed sidebar,
    a footnote, a table row group."""

    id: str  # unique in an index: "<document id>:<local id>", the local id being "p119", "box-3", "fn1", "p12"
    # (the 12th paragraph) or the id a user's file gives
    text: str  # exactly as in the document (a paragraph broken by page or column is joined)
    order: int  # position in the document
    paragraph: int | None = None  # the document's own number where it numbers paragraphs, else the ordinal
    box: str | None = None  # box title, for sidebars
    section: str | None = None  # the heading it sits under, e.g. "E. 有效協調人道主義援助"
    heading: str | None = None  # the sub-heading inside the section, e.g. "氣候行動"
    after: int | None = None  # for boxes and footnotes: the paragraph they follow or annotate
    document: DocumentRef | None = None
    page: int | None = None  # 1-based page where it starts (paged formats only)
    page_starts: tuple[int, ...] = ()  # offsets in `text` where page + 1, page + 2, ... begin

    @property
    def local_id(self) -> str:
        """The id within its document (what the file itself calls it, for a SQuAD or JSONL file)."""
        return self.id.split(":", 1)[1] if self.document is not None and ":" in self.id else self.id

    def page_at(self, offset: int) -> int | None:
        """The page holding character `offset` of the text (a paragraph crossing a page break is cited where the
        answer is)."""
        if self.page is None:
            return None
        return self.page + sum(1 for start in self.page_starts if start <= offset)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Passage:
        data = dict(data)
        if data.get("document") is not None:
            data["document"] = DocumentRef(**data["document"])
        data["page_starts"] = tuple(data.get("page_starts") or ())
        return cls(**data)


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


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, in OpenAI's shape: what a follow-up question is resolved against."""

    role: str  # "user" or "assistant"
    content: str


@dataclass
class AskResult:
    question: str
    answers: list[Answer]
    hits: list[Hit]
    no_answer: bool
    timings_ms: dict[str, float] = field(default_factory=dict)
    tokens_read: int = 0  # tokens the reader ran over (padding included): what reading cost
    unmatched_numbers: list[str] = field(default_factory=list)  # named by the question, held by no passage found
    unmatched_names: list[str] = field(default_factory=list)  # places and bodies likewise (qa/language/names.py)
    cite_files: bool = False  # the index holds several documents: a citation names the file
    resolved_question: str | None = None  # the question answered: a follow-up completed from the conversation
