"""Capacity of one `qa serve` on this machine (issue 35), optionally beside another version of the code in one run.

For each server (this checkout, and with `--baseline REF` the code at that git ref, from a temporary worktree with
its own QA_HOME, same venv, started the same way): the answer cache off, then
- one question at a time over HTTP, every question once: /v1/ask latency p50/p95;
- `--clients` clients (default 20) asking in a loop for `--seconds` (default 30), each waiting out a refusal's
  Retry-After as the widget and the SDKs do: answers/s, p50/p95 of the answers served, status codes;
and, for this checkout, what the answer cache adds: the same crowd with the cache on, after one pass over the
questions (every question then repeats).

    python -m bench.throughput                         # this checkout
    python -m bench.throughput --baseline 0795bf9      # before/after in one run (make bench BASELINE=0795bf9)

The clients run on the same cores as the server (as `make bench` does everywhere): the figures are a floor.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench.paths import EVAL, RESULTS, ROOT
from bench.speed import Server, crowd, pct, rss_mb

QUESTION_SETS = [EVAL / "un-report-dev.jsonl", EVAL / "un-report-dev2.jsonl"]  # the report's questions, all kinds


def one_at_a_time(url: str, questions: list[str]) -> dict:
    latencies = []
    with httpx.Client(base_url=url, timeout=60) as http:
        for q in questions:
            t = time.perf_counter()
            r = http.post("/v1/ask", json={"question": q})
            if r.status_code != 200:
                raise RuntimeError(f"/v1/ask answered {r.status_code}: {r.text[:200]}")
            latencies.append((time.perf_counter() - t) * 1000)
    return {"questions": len(questions), "p50_ms": pct(latencies, 50), "p95_ms": pct(latencies, 95)}


def measure(server: Server, questions: list[str], clients: int, seconds: float) -> dict:
    for q in questions[:5]:  # warm up: first-call allocations, the glossary
        httpx.post(f"{server.url}/v1/ask", json={"question": q}, timeout=60)
    out = {"one_at_a_time": one_at_a_time(server.url, questions)}
    out["crowd"] = crowd(server.url, questions, clients, seconds)
    out["rss_mb"] = rss_mb(server.proc.pid)
    return out


def worktree(ref: str, stack: ExitStack) -> Path:
    """The code at `ref` in a temporary git worktree, removed when the stack closes."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qa-baseline-"))) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), ref], check=True,
                   capture_output=True)
    stack.callback(subprocess.run, ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
                   capture_output=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", metavar="REF", help="also measure the code at this git ref, in the same run")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--questions", type=Path, nargs="+", default=QUESTION_SETS)
    parser.add_argument("--output", type=Path, default=RESULTS / "throughput.json")
    args = parser.parse_args(argv)

    from qa.eval import load_dataset

    questions = [q.question for path in args.questions for q in load_dataset(path)]
    out: dict = {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "questions": len(questions),
                 "clients": args.clients, "seconds": args.seconds, "servers": {}}
    with ExitStack() as stack:
        servers = [("this checkout", None, {})]
        if args.baseline:  # its own QA_HOME: an older version may not read this one's index or models
            home = stack.enter_context(tempfile.TemporaryDirectory(prefix="qa-baseline-home-"))
            servers.insert(0, (f"baseline {args.baseline}", worktree(args.baseline, stack), {"QA_HOME": home}))
        for name, tree, env in servers:
            print(f"throughput: {name} …", file=sys.stderr)
            with Server(env, source=tree) as server:
                out["servers"][name] = measure(server, questions, args.clients, args.seconds)
    print("throughput: this checkout with the answer cache on (every question asked once before) …", file=sys.stderr)
    with Server({"QA_ANSWER_CACHE": "512"}) as server:  # room for every question
        one_at_a_time(server.url, questions)
        out["answer_cache_on"] = crowd(server.url, questions, args.clients, args.seconds)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")
    print_throughput(out)
    print(f"\nwritten to {args.output}")
    return 0


def print_throughput(out: dict) -> None:
    print(f"\n{out['questions']} questions, answer cache off; {out['clients']} clients for {out['seconds']:.0f} s")
    print(f"{'server':26s} one at a time p50/p95 ms | answers/s  p50/p95 ms  statuses           RSS MB")
    for name, r in out["servers"].items():
        one, c = r["one_at_a_time"], r["crowd"]
        print(f"{name:26s} {one['p50_ms']:>8} / {one['p95_ms']:<12} | {c['answers_per_s']:>9}  "
              f"{c['p50_ms']} / {c['p95_ms']}  {json.dumps(c['statuses']):18s} {r['rss_mb']}")
    c = out["answer_cache_on"]
    print(f"{'answer cache on (repeats)':26s} {'':25s} | {c['answers_per_s']:>9}  {c['p50_ms']} / {c['p95_ms']}  "
          f"{json.dumps(c['statuses'])}")


if __name__ == "__main__":
    sys.exit(main())
