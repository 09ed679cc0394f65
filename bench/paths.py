"""Where the benchmarks find the project's files and the shared data sets (../shared, beside a developer checkout)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
EVAL = ROOT / "data" / "eval"
RESULTS = ROOT / "bench" / "results"
