"""`make bench` speed part: each runtime as a real `qa serve` process, measured over HTTP in one run.

For torch, ONNX fp32 and ONNX int8 in turn (same machine, same questions, answer cache off):
- the dev set through `qa eval --url`: F1, citation accuracy, /v1/ask latency p50/p95 and the
  server's own retrieve/read timings, tokens read per question;
- /v1/search latency p50/p95; the server's RSS after warm-up and after the run;
- 20 concurrent clients for a fixed time, honouring Retry-After: answers/s, latency p50/p95 of admitted
  requests, status codes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

RUNTIMES = [("torch", "fp32", 1), ("onnx", "fp32", 1), ("onnx", "fp32", 2), ("onnx", "int8", 2)]  # + QA_THREADS


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))], 1)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`qa serve` in a child process with the given QA_* settings, until the block ends; from the code in `source`
    (another checkout of the project) when given."""

    def __init__(self, env: dict[str, str], source: Path | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # every bench client is 127.0.0.1, one client to the rate limiter: measure the admission queue instead
        self.env = {**os.environ, "QA_ANSWER_CACHE": "0", "QA_RATE_LIMIT_ASK": "", **env}
        self.source = source
        if source is not None:
            self.env["PYTHONPATH"] = str(source)

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-m", "qa.cli", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=self.source, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 600  # a first ONNX export happens here
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"qa serve exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("qa serve did not become healthy")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def crowd(url: str, questions: list[str], clients: int, seconds: float) -> dict:
    """`clients` threads asking in a loop for `seconds`, each waiting out a refusal's Retry-After as the
    widget's users and SDK clients do; admitted latencies and status counts."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def worker(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            i = offset
            while time.monotonic() < stop:
                t, wait = time.perf_counter(), 0.0
                try:
                    r = http.post("/v1/ask", json={"question": questions[i % len(questions)]})
                    code, wait = str(r.status_code), float(r.headers.get("Retry-After", 0))
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    statuses[code] = statuses.get(code, 0) + 1
                    if code == "200":
                        latencies.append(ms)
                        i += clients
                time.sleep(min(wait, max(0.0, stop - time.monotonic())))  # a refused client waits as told

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {"clients": clients, "seconds": round(elapsed, 1), "answers_per_s": round(len(latencies) / elapsed, 2),
            "p50_ms": pct(latencies, 50), "p95_ms": pct(latencies, 95), "statuses": statuses}


def bench_runtime(runtime: str, precision: str, threads: int, dev: Path, questions: list[str], crowd_s: float) -> dict:
    from qa.config import Settings
    from qa.eval import evaluate, load_dataset
    from qa.eval.backends import HttpBackend

    env = {"QA_RUNTIME": runtime, "QA_READER_PRECISION": precision, "QA_THREADS": str(threads)}
    with Server(env) as server:
        out: dict = {"rss_mb_warm": rss_mb(server.proc.pid)}
        result = evaluate(HttpBackend(server.url, Settings().read_k), load_dataset(dev))
        m = result["metrics"]
        out.update(f1=m["f1"], em=m["em"], citation=m["citation_accuracy"],
                   ask_ms={k: m["latency_ms"][k] for k in ("p50", "p95")})
        with httpx.Client(base_url=server.url, timeout=60) as http:
            tokens, search, stages = [], [], {"retrieve": [], "read": []}
            for q in questions:
                r = http.post("/v1/ask", json={"question": q})
                if r.status_code != 200:
                    raise RuntimeError(f"{runtime}-{precision}: /v1/ask answered {r.status_code}: {r.text[:200]}")
                body = r.json()
                tokens.append(body.get("tokens_read", 0))
                for stage, values in stages.items():
                    values.append(body["timings_ms"][stage])
                t = time.perf_counter()
                http.post("/v1/search", json={"question": q})
                search.append((time.perf_counter() - t) * 1000)
        out["tokens_read_mean"] = round(sum(tokens) / len(tokens), 1)
        out["stages_ms"] = {k: {"p50": pct(v, 50), "p95": pct(v, 95)} for k, v in stages.items()}
        out["search_ms"] = {"p50": pct(search, 50), "p95": pct(search, 95)}
        out["rss_mb_after_questions"] = rss_mb(server.proc.pid)
        out["crowd"] = crowd(server.url, questions, 20, crowd_s)
        out["rss_mb_after_crowd"] = rss_mb(server.proc.pid)
    return out


def bench_speed(dev: Path, out: dict, crowd_s: float = 20.0) -> None:
    from qa.eval import load_dataset

    questions = [q.question for q in load_dataset(dev)]
    out["runtimes"] = {}
    for runtime, precision, threads in RUNTIMES:
        print(f"speed: {runtime} {precision}, {threads} thread(s) …", file=sys.stderr)
        name = f"{runtime}-{precision}-t{threads}"
        out["runtimes"][name] = bench_runtime(runtime, precision, threads, dev, questions, crowd_s)


def print_speed(out: dict) -> None:
    print("\nruntime           F1  cite  /v1/ask p50/p95  retrieve/read p50  search p50  tokens  RSS MB"
          "  | 20 clients: answers/s, p50/p95 ms, statuses")
    for name, r in out.get("runtimes", {}).items():
        ask, st, c = r["ask_ms"], r["stages_ms"], r["crowd"]
        print(f"{name:14s} {r['f1']:5.1f} {r['citation']:5.1f}  {ask['p50']:>7.1f} / {ask['p95']:<7.1f}"
              f"  {st['retrieve']['p50']:>7} / {st['read']['p50']:<7}  {r['search_ms']['p50']:>10}"
              f"  {r['tokens_read_mean']:>6}  {r['rss_mb_after_crowd']:>6}"
              f"  | {c['answers_per_s']}, {c['p50_ms']}/{c['p95_ms']}, {c['statuses']}")
