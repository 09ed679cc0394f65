"""The edge as an attacker meets it: bodies too big or too slow, keys, rate limits, quotas, security
headers, what health pages reveal, and methods the API does not use. Real app, real pipeline."""

from __future__ import annotations

import secrets
import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import hash_key
from qa.cli import main
from qa.cli.serve import serve_options
from qa.feedback import FeedbackStore, feedback_path
from qa.pipeline import Pipeline

QUESTION = "巴基斯坦的暴雨洪灾波及了多少人?"
MB = 1024 * 1024


def edge_client(pipeline, settings, **edge) -> TestClient:
    """The app with these edge settings over the loaded pipeline (no lifespan: it is loaded already)."""
    return TestClient(create_app(settings.model_copy(update=edge), pipeline))


def raw_request(url: str, head: str, body: Iterator[bytes] = iter(()), wait_s: float = 5.0) -> tuple[bytes, int]:
    """Send `head` then `body` chunk by chunk over a plain socket, looking for an answer after each chunk;
    (what the server answered, body bytes sent by then). Stops sending as soon as an answer arrives."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=wait_s)
    sent = 0
    try:
        sock.sendall(head.encode("latin-1"))
        for chunk in body:
            if select.select([sock], [], [], 0.02)[0]:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        answer = b""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and b"\r\n\r\n" not in answer:
            if select.select([sock], [], [], 0.1)[0]:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        return answer, sent
    finally:
        sock.close()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


# ---- body size, body pace, encoding ---------------------------------------------------------------


def test_a_declared_10_gb_body_is_refused_at_once(live):
    head = (f"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {10 * 1024 ** 3}\r\n\r\n")
    t0 = time.monotonic()
    answer, _ = raw_request(live.url, head)
    assert status_of(answer) == 413, answer[:200]
    assert time.monotonic() - t0 < 1.0  # answered without waiting for (or reading) any of the body
    assert b"connection: close" in answer.lower()


def test_a_50_mb_streamed_body_is_refused_before_it_is_sent(live):
    chunk = b"x" * (64 * 1024)

    def fifty_mb() -> Iterator[bytes]:  # chunked transfer: the server learns the size only as it arrives
        for _ in range(50 * MB // len(chunk)):
            yield b"%x\r\n%s\r\n" % (len(chunk), chunk)

    head = "POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer, sent = raw_request(live.url, head, fifty_mb())
    assert status_of(answer) == 413, answer[:200]
    print(f"\n413 after {sent / MB:.2f} MB of 50 MB sent")
    assert sent < 8 * MB  # the limit (64 KB) plus what the sockets' buffers took before the answer came


def test_a_body_over_the_limit_through_httpx_is_413(client):
    r = client.post("/v1/ask", content=b'{"question": "' + b"x" * 70_000 + b'"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "65536 bytes" in r.json()["error"]


def test_a_body_sent_too_slowly_gets_408(settings, pipeline, serve_app):
    app = create_app(settings.model_copy(update={"body_timeout_s": 0.5}), pipeline)
    with serve_app(app) as server:
        head = "POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        answer, _ = raw_request(server.url, head, iter([b'{"question": ']))  # then nothing more
    assert status_of(answer) == 408, answer[:200]


def test_non_utf8_json_is_a_readable_422(client):
    r = client.post("/v1/ask", content='{"question": "café"}'.encode("latin-1"),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"].startswith("body: not UTF-8 JSON")


# ---- keys -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return {"user": secrets.token_hex(8), "other": secrets.token_hex(8), "admin": secrets.token_hex(8)}


@pytest.fixture(scope="module")
def keyed(pipeline, api_settings, keys) -> TestClient:
    return edge_client(pipeline, api_settings, api_keys=[hash_key(keys["user"]), hash_key(keys["other"])],
                       admin_keys=[hash_key(keys["admin"])])


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


OPENAI_ERROR = {"message", "type", "code", "param"}


def test_the_openai_routes_refuse_in_openai_s_shape_before_the_app_too(keyed, client, keys):
    """The middleware's 401 and 413 on the OpenAI routes have the shape OpenAI's SDKs parse; elsewhere our own."""
    chat = {"model": "cited-qa", "messages": [{"role": "user", "content": "巴基斯坦的暴雨洪灾波及了多少人?"}]}
    unkeyed = keyed.post("/v1/chat/completions", json=chat)
    assert unkeyed.status_code == 401 and set(unkeyed.json()["error"]) == OPENAI_ERROR
    assert unkeyed.json()["error"]["code"] == "invalid_api_key" and "WWW-Authenticate" in unkeyed.headers
    assert keyed.get("/v1/models").json()["error"]["type"] == "invalid_request_error"
    assert keyed.post("/v1/ask", json={"question": "x"}).json()["error"].startswith("this API needs a key")
    big = client.post("/v1/chat/completions", content=b"x" * 70_000, headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and set(big.json()["error"]) == OPENAI_ERROR
    assert "65536 bytes" in big.json()["error"]["message"]


def test_with_keys_set_a_key_is_needed_and_checked(keyed, keys):
    missing = keyed.post("/v1/ask", json={"question": QUESTION})
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    wrong = keyed.post("/v1/ask", json={"question": QUESTION}, headers=bearer("not-a-key"))
    assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["www-authenticate"]
    assert keyed.post("/v1/ask", json={"question": QUESTION}, headers=bearer(keys["user"])).status_code == 200
    assert keyed.post("/v1/ask", json={"question": QUESTION}, headers=bearer(keys["admin"])).status_code == 200
    for path in ("/v1/passages/p1", "/metrics", "/openapi.json", "/no-such-page"):
        assert keyed.get(path).status_code == 401, path


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/", "/widget.js"])
def test_probes_the_demo_page_and_the_widget_stay_open(keyed, path):
    assert keyed.get(path).status_code == 200


def test_feedback_export_needs_the_admin_key(keyed, keys, pipeline, api_settings):
    assert keyed.get("/v1/feedback/export", headers=bearer(keys["user"])).status_code == 401
    export = keyed.get("/v1/feedback/export", headers=bearer(keys["admin"]))
    assert export.status_code == 200 and export.headers["content-type"] == "application/x-ndjson"
    unset = edge_client(pipeline, api_settings)  # no QA_ADMIN_KEYS: the admin routes are off
    assert unset.get("/v1/feedback/export", headers=bearer(keys["admin"])).status_code == 403


def test_feedback_records_which_key_sent_it_never_the_key(keyed, keys, api_settings):
    r = keyed.post("/v1/feedback", json={"question": QUESTION, "helpful": True, "answer": "3300萬人",
                                         "passage_id": "p121", "paragraph": 121}, headers=bearer(keys["user"]))
    assert r.status_code == 201
    row = next(x for x in FeedbackStore(feedback_path(api_settings)).rows() if x["id"] == r.json()["id"])
    assert row["client"] == "key:" + hash_key(keys["user"])[:12]
    assert keys["user"] not in str(row)


# ---- rate limits and quotas -----------------------------------------------------------------------


def test_the_ask_rate_limit_is_per_client_and_says_when_to_come_back(pipeline, api_settings, keys):
    c = edge_client(pipeline, api_settings, rate_limit_ask="2/minute",
                    api_keys=[hash_key(keys["user"]), hash_key(keys["other"])])
    ask = {"question": QUESTION}
    assert [c.post("/v1/ask", json=ask, headers=bearer(keys["user"])).status_code for _ in range(2)] == [200, 200]
    limited = c.post("/v1/search", json=ask, headers=bearer(keys["user"]))  # one budget for all model routes
    assert limited.status_code == 429 and 25 <= int(limited.headers["retry-after"]) <= 30
    assert c.post("/v1/ask", json=ask, headers=bearer(keys["other"])).status_code == 200  # another client


def test_the_feedback_rate_limit(pipeline, api_settings):
    c = edge_client(pipeline, api_settings, rate_limit_feedback="2/minute")
    codes = [c.post("/v1/feedback", json={"question": "有用嗎?", "helpful": True}).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_feedback_beyond_the_daily_quota_is_429_with_retry_after(pipeline, api_settings):
    key = secrets.token_hex(8)  # a client with no feedback yet in the session's store
    c = edge_client(pipeline, api_settings, feedback_quota=3, api_keys=[hash_key(key)])

    def post():
        return c.post("/v1/feedback", json={"question": "有用嗎?", "helpful": False}, headers=bearer(key))

    assert [post().status_code for _ in range(3)] == [201, 201, 201]
    over = post()
    assert over.status_code == 429 and "24 hours" in over.json()["error"]
    assert 86000 <= int(over.headers["retry-after"]) <= 86400


# ---- what responses say ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/healthz", None), ("POST", "/v1/ask", {"question": QUESTION}), ("POST", "/v1/ask", {}),
    ("GET", "/no-such-page", None), ("GET", "/widget.js", None), ("GET", "/", None), ("GET", "/docs", None),
    ("GET", "/metrics", None),
])
def test_security_headers_on_every_response(client, method, path, body):
    r = client.request(method, path, json=body)
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_the_demo_page_allows_only_its_own_script(client):
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "connect-src 'self'" in csp and "style-src 'self' 'sha256-" in csp


def test_healthz_counts_but_names_no_path(client, settings):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["passages"] == 165
    assert "/" not in body["corpus"] and body["corpus"] == settings.corpus.name
    text = client.get("/healthz").text
    assert str(settings.corpus.parent) not in text and str(settings.home) not in text


def test_readyz_is_503_while_loading_and_model_routes_say_when_to_retry(pipeline, settings):
    loading = TestClient(create_app(settings, Pipeline(settings)))  # nothing loaded, no lifespan to load it
    for path in ("/readyz", "/healthz"):
        r = loading.get(path)
        assert r.status_code == 503 and r.headers["retry-after"]
    r = loading.post("/v1/ask", json={"question": QUESTION})
    assert r.status_code == 503 and r.headers["retry-after"]


def test_readyz_when_loaded(client):
    assert client.get("/readyz").json() == {"status": "ready"}


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("TRACE", "/v1/ask", "POST"), ("TRACE", "/", "GET"), ("TRACE", "/healthz", "GET"),
    ("PUT", "/v1/feedback", "POST"), ("DELETE", "/v1/passages/p1", "GET"), ("PATCH", "/metrics", "GET"),
])
def test_methods_a_route_does_not_take_get_405_with_allow(client, method, path, allow):
    r = client.request(method, path)
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == set(allow.split(", "))


def test_metrics_count_requests_and_refusals(client):
    client.post("/v1/ask", content=b"x" * 70_000, headers={"Content-Type": "application/json"})
    client.post("/v1/ask", json={"question": QUESTION})
    text = client.get("/metrics").text
    assert 'qa_http_requests_total{method="POST",route="/v1/ask",status="200"}' in text
    assert 'qa_rejections_total{reason="body_too_large"}' in text
    assert "qa_http_request_duration_seconds_bucket" in text and "qa_answers_in_flight" in text


# ---- what `qa serve` and `qa keys` do -------------------------------------------------------------


def test_idle_keep_alive_connections_are_closed(settings, pipeline, serve_app):
    app = create_app(settings, pipeline)
    with serve_app(app, **serve_options(settings.model_copy(update={"keep_alive_s": 1}))) as server:
        parts = urlsplit(server.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
            response = sock.recv(65536)
            while b"}" not in response and (more := sock.recv(65536)):  # head and body may come apart
                response += more
            assert response.startswith(b"HTTP/1.1 200")
            t0 = time.monotonic()
            assert sock.recv(65536) == b""  # closed by the server, not by us
            assert 0.8 < time.monotonic() - t0 < 3


def test_qa_keys_new_and_hash(capsys):
    assert main(["keys", "new"]) == 0
    out = capsys.readouterr().out.split()
    key, digest = out[1], out[3]
    assert digest == hash_key(key) and len(digest) == 64
    assert main(["keys", "hash", key]) == 0
    assert capsys.readouterr().out.strip() == digest


def test_a_raw_key_in_the_settings_is_refused_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("QA_API_KEYS", '["my-secret-key"]')
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "QA_API_KEYS" in err and "qa keys new" in err and "Traceback" not in err
