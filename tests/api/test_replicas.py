"""Replicas: two `qa serve` processes started together on one empty QA_HOME build each model and the index once and
both answer; and (docs/SCALE.md) two answer from one `milvus-lite server`, where a document added with
`qa index --add` while they run is found by both without a restart."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.slow

DOC = [{"id": "school", "text": "新學校在九月開學,共招收了四百名學生。"},
       {"id": "bridge", "text": "跨河大橋於2021年動工,預計明年通車。"},
       {"id": "budget", "text": "市議會通過了五千萬元的年度預算,其中三成用於教育。"}]
ADDED = [{"id": "zoo", "text": "動物園新來了兩隻熊貓,每天吃四十公斤竹子。"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} not up after {seconds:.0f} s")


def qa(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, check=True)


def up(url: str, proc: subprocess.Popen, log) -> bool:
    if proc.poll() is not None:
        pytest.fail(f"a replica died: {log.read_text()[-2000:]}")
    return httpx.get(f"{url}/readyz").status_code == 200


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_two_replicas_start_together_on_an_empty_home(tmp_path):
    """Both build nothing twice (a file lock per model folder and the index folder's change lock): one builds, the
    other waits and loads what it built. Once, one of two died on the other's rename (issue 35)."""
    corpus = tmp_path / "doc.jsonl"
    corpus.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in DOC), encoding="utf-8")
    home, ports = tmp_path / "home", [free_port(), free_port()]
    env = {**os.environ, "QA_HOME": str(home), "QA_CORPUS": str(corpus), "QA_RATE_LIMIT_ASK": "off"}
    logs = [tmp_path / f"serve-{port}.log" for port in ports]
    procs = [subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=log.open("w")) for port, log in zip(ports, logs)]
    try:
        for port, proc, log in zip(ports, procs, logs):
            url = f"http://127.0.0.1:{port}"
            wait_until(lambda url=url, proc=proc, log=log: up(url, proc, log), 300, url)
            answer = httpx.post(f"{url}/v1/ask", json={"question": "大橋哪一年動工?"}, timeout=30).json()
            assert "2021" in answer["answers"][0]["text"]
    finally:
        stop(procs)
    models = sorted(p.name for p in (home / "models").iterdir() if not p.name.endswith(".lock"))
    assert len(models) == 2 and [m.split("-")[0] for m in models] == ["multilingual", "reader"]  # built once each
    assert len(list((home / "index" / "versions").iterdir())) == 1  # the index too
    assert sum("building" in log.read_text() for log in logs) >= 1


@pytest.mark.milvus
def test_two_replicas_share_one_milvus_server(tmp_path):
    pytest.importorskip("pymilvus", reason="QA_VECTOR_STORE=milvus needs pymilvus + milvus-lite ('.[milvus]')")
    pytest.importorskip("milvus_lite", reason="the test serves Milvus with `milvus-lite server` ('.[milvus]')")
    corpus, added = tmp_path / "doc.jsonl", tmp_path / "zoo.jsonl"
    for path, docs in ((corpus, DOC), (added, ADDED)):
        path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in docs), encoding="utf-8")
    milvus_port, ports = free_port(), [free_port(), free_port()]
    env = {**os.environ, "QA_VECTOR_STORE": "milvus", "QA_MILVUS_URI": f"http://127.0.0.1:{milvus_port}",
           "QA_CORPUS": str(corpus), "QA_RATE_LIMIT_ASK": "off", "QA_INDEX_THREADS": "1"}
    milvus_cli = os.path.join(os.path.dirname(sys.executable), "milvus-lite")
    procs = [subprocess.Popen([milvus_cli, "server", "--data-dir", str(tmp_path / "milvus"), "--host", "127.0.0.1",
                               "--port", str(milvus_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", milvus_port), 1).close() is None, 60,
                   "milvus-lite server")
        qa(env, "index")
        procs += [subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            wait_until(lambda url=url: httpx.get(f"{url}/readyz").status_code == 200, 180, url)
            assert httpx.get(f"{url}/healthz").json()["passages"] == 3

        def top(url: str, question: str) -> str:
            hits = httpx.post(f"{url}/v1/search", json={"question": question, "top_k": 1}, timeout=30).json()
            return hits["passages"][0]["id"]

        assert {top(url, "熊猫每天吃多少竹子?") for url in urls} != {"zoo:zoo"}
        assert "added 1 documents" in qa(env, "index", "--add", str(added)).stdout
        assert [top(url, "熊猫每天吃多少竹子?") for url in urls] == ["zoo:zoo", "zoo:zoo"]  # no restart
        for url in urls:
            assert httpx.get(f"{url}/v1/passages/zoo:zoo").json()["text"] == ADDED[0]["text"]
            assert httpx.get(f"{url}/healthz").json()["passages"] == 4
        qa(env, "index", "--remove", "zoo")
        assert [httpx.get(f"{url}/v1/passages/zoo:zoo").status_code for url in urls] == [404, 404]
    finally:
        stop(procs)


def test_a_lost_current_link_serves_the_newest_version_and_deletes_nothing(settings, pipeline, tmp_path):
    """`qa ask` and `qa serve` agree on an index folder whose `current` link is gone: both serve its newest version
    with a warning; `qa serve` once built the bundled report over it and deleted the user's version (issue 35)."""
    corpus, index_dir, port = tmp_path / "doc.jsonl", tmp_path / "ix", free_port()
    corpus.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in DOC), encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("QA_")}, "QA_HOME": str(settings.home),
           "QA_RATE_LIMIT_ASK": "off"}
    qa(env, "index", str(corpus), "--index-dir", str(index_dir))
    (index_dir / "current").unlink()
    before = sorted(p.relative_to(index_dir) for p in index_dir.rglob("*") if p.name != ".lock")
    asked = qa(env, "ask", "大橋哪一年動工?", "--json", "--index-dir", str(index_dir))
    assert json.loads(asked.stdout)["answers"][0]["id"] == "doc:bridge" and "no `current` link" in asked.stderr
    log = tmp_path / "serve.log"
    procs = [subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--port", str(port), "--index-dir",
                               str(index_dir)], env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))]
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: up(url, procs[0], log), 120, url)
        assert httpx.get(f"{url}/healthz").json()["passages"] == 3  # the user's document, not the bundled report
        answer = httpx.post(f"{url}/v1/ask", json={"question": "大橋哪一年動工?"}, timeout=30).json()
        assert answer["answers"][0]["id"] == "doc:bridge"
    finally:
        stop(procs)
    assert "no `current` link" in log.read_text()
    assert sorted(p.relative_to(index_dir) for p in index_dir.rglob("*") if p.name != ".lock") == before
