"""Where the benchmarks find the project's files and the shared data sets (../shared, beside a developer checkout),
and where their figures go."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
EVAL = ROOT / "data" / "eval"
RESULTS = ROOT / "bench" / "results"


def print_and_save(figures: dict, path: Path | None) -> None:
    """The figures as JSON on stdout, and in `path` when given."""
    text = json.dumps(figures, ensure_ascii=False, indent=2)
    print(text)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
