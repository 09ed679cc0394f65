"""Fixtures of the eval tests: a tiny SQuAD-format file made of the bundled report's paragraphs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def squad_file():
    """Writes a tiny SQuAD-format file: `squad_file(tmp_path, unanswerable=False, name=...)`."""
    return _write_squad_file


def _write_squad_file(tmp_path: Path, unanswerable: bool = False, name: str = "tiny_squad.json") -> Path:
    """A tiny SQuAD-format file made of the bundled report's own paragraphs (the project's licence)."""
    from qa.documents.load import BUNDLED_CORPUS, load_corpus

    text = {p.paragraph: p.text for p in load_corpus(BUNDLED_CORPUS) if p.paragraph in (7, 13, 35, 38)}
    qas = {
        7: ("2022年人道主義應急行動中,有多少急需救助的人得到了維持生命的援助和保護?", "近1.6億"),
        13: ("截至2023年6月中旬,黑海倡議下出口了多少糧食?", "3200多萬噸"),
        35: ("2022年世界人口達到了多少?", "80億"),
    }
    paragraphs = []
    for n, context in text.items():
        entries = []
        if n in qas:
            question, answer = qas[n]
            entries.append({"id": f"q{n}", "question": question,
                            "answers": [{"text": answer, "answer_start": context.find(answer)}]})
        elif unanswerable:
            entries.append({"id": f"q{n}", "question": "聯合國總部大樓有幾層?", "answers": [], "is_impossible": True})
        paragraphs.append({"id": f"r-{n}", "context": context, "qas": entries})
    path = tmp_path / name
    path.write_text(json.dumps({"version": "test", "data": [{"title": "A/78/1", "paragraphs": paragraphs}]},
                               ensure_ascii=False), encoding="utf-8")
    return path
