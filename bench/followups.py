"""Follow-up questions over HTTP, as a chat client asks them: each conversation's last question sent with the turns
before it to `/v1/ask` (`history`) and to `/v1/chat/completions` (`messages`), and the same question written out in
full asked alone; F1 by kind for each, and the latency of a follow-up beside a single question's.

    python -m bench.followups --url http://127.0.0.1:8000 [--set data/eval/un-report-conversations.jsonl]

Start the server with the answer cache off (QA_ANSWER_CACHE=0) and no rate limit (QA_RATE_LIMIT_ASK=off).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
import urllib.request
from pathlib import Path

from bench.paths import EVAL, print_and_save
from qa.eval.metrics import f1_score


def _post(url: str, body: dict) -> tuple[dict, float]:
    request = urllib.request.Request(url, json.dumps(body, ensure_ascii=False).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        data = json.loads(response.read())
    return data, (time.perf_counter() - t0) * 1000


def ask(url: str, question: str, history: list[dict]) -> tuple[str, float]:
    """The shown answer ("" when withheld) and the milliseconds it took, from /v1/ask."""
    data, ms = _post(f"{url}/v1/ask", {"question": question, "history": history})
    return ("" if data["no_answer"] else data["answers"][0]["text"]), ms


def chat(url: str, question: str, history: list[dict]) -> str:
    """The answer a chat client sees: the reply's first line before its citation marker ("" for no answer)."""
    data, _ = _post(f"{url}/v1/chat/completions", {"model": "cited-qa", "messages": [
        *history, {"role": "user", "content": question}]})
    message = data["choices"][0]["message"]
    if not message.get("annotations"):
        return ""
    return re.sub(r"\s*\[[^\]]*\]$", "", message["content"].split("\n", 1)[0])


def score(answer: str, golds: list[str]) -> float:
    if not golds:
        return float(not answer)
    return max(f1_score(answer, [g]) for g in golds) if answer else 0.0


def run(url: str, path: Path) -> dict:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows, follow_ms, single_ms = [], [], []
    ask(url, "聯合國", [])  # warm-up
    for item in items:
        *history, last = item["turns"]
        got, ms = ask(url, last["content"], history)
        alone, alone_ms = ask(url, item["standalone"], [])
        follow_ms.append(ms)
        single_ms.append(alone_ms)
        rows.append({"kind": item["kind"], "ask": score(got, item["answers"]),
                     "chat": score(chat(url, last["content"], history), item["answers"]),
                     "full": score(alone, item["answers"])})
    kinds = sorted({r["kind"] for r in rows})

    def mean(key: str, kind: str | None = None) -> float:
        chosen = [r[key] for r in rows if kind is None or r["kind"] == kind]
        return round(100 * sum(chosen) / len(chosen), 1)

    return {"conversations": len(rows),
            "f1": {key: mean(key) for key in ("ask", "chat", "full")},
            "by_kind": {k: {"n": sum(r["kind"] == k for r in rows), **{key: mean(key, k) for key in
                                                                        ("ask", "chat", "full")}} for k in kinds},
            "latency_ms": {"follow_up_p50": round(statistics.median(follow_ms), 1),
                           "single_p50": round(statistics.median(single_ms), 1),
                           "ratio": round(statistics.median(follow_ms) / statistics.median(single_ms), 2)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--set", type=Path, default=EVAL / "un-report-conversations.jsonl")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = run(args.url.rstrip("/"), args.set)
    print_and_save(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
