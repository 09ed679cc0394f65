"""JSON lines: a document that is already passages, one `{"id", "text", "section"?, "paragraph"?}` object a line."""

from __future__ import annotations

import json
from pathlib import Path

from qa.documents.errors import CorpusError
from qa.types import Passage


def parse_jsonl(text: str, path: Path | str) -> list[Passage]:
    passages: list[Passage] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
            raise CorpusError(f'{path}:{lineno}: each line needs an object with a non-empty "text" string')
        pid = str(obj.get("id", f"line-{lineno}"))
        if pid in seen:
            raise CorpusError(f"{path}:{lineno}: duplicate id {pid!r}")
        seen.add(pid)
        paragraph = obj.get("paragraph")
        if paragraph is not None and not isinstance(paragraph, int):
            raise CorpusError(f'{path}:{lineno}: "paragraph" must be an integer')
        passages.append(
            Passage(
                id=pid,
                text=obj["text"],
                order=len(passages),
                paragraph=paragraph,
                box=obj.get("box"),
                section=obj.get("section") or obj.get("title"),
                heading=obj.get("heading"),
            )
        )
    if not passages:
        raise CorpusError(f"{path}: no passages found")
    return passages
