"""What the English query map costs in time: dev2's English questions searched and answered with the map and
without it, interleaved in one process (same models, same index, answer cache off), so the two are compared in
one run on one machine.

    python -m bench.english_map [--rounds 3] [--output FILE]

Prints per setting the p50 and p95 of search and of ask, in milliseconds, and how many questions each timed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.paths import EVAL, print_and_save


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="times each question is asked per setting")
    parser.add_argument("--output", type=Path, help="also write the figures here (JSON)")
    args = parser.parse_args()

    from qa.config import Settings
    from qa.eval import load_dataset
    from qa.pipeline import Pipeline
    from qa.storage.collection import ensure_index

    settings = Settings(answer_cache=0)
    ensure_index(settings)
    questions = [q.question for q in load_dataset(EVAL / "un-report-dev2.jsonl") if q.script == "english"]
    mapped = Pipeline(settings.model_copy(update={"map_english_queries": True})).load()
    plain = Pipeline(settings.model_copy(update={"map_english_queries": False}))
    plain.embedder, plain.reader = mapped.embedder, mapped.reader
    plain.load()
    times = {name: {"search": [], "ask": []} for name in ("with the map", "without")}
    for r in range(args.rounds):
        order = [("with the map", mapped), ("without", plain)]
        for question in questions:
            for name, pipeline in order if r % 2 == 0 else order[::-1]:  # neither always runs first
                start = time.perf_counter()
                pipeline.search(question)
                searched = time.perf_counter()
                pipeline.ask(question, use_cache=False)
                times[name]["search"].append((searched - start) * 1000)
                times[name]["ask"].append((time.perf_counter() - searched) * 1000)
    figures = {name: {f"{what} p{q} ms": _pct(values, q) for what, values in kinds.items() for q in (50, 95)}
               | {"questions timed": len(kinds["ask"])} for name, kinds in times.items()}
    print_and_save(figures, args.output)


if __name__ == "__main__":
    main()
