"""CORS: only the origins in QA_CORS_ORIGINS may call the API from a browser; the rest are refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.config import Settings

STRANGER = "https://evil.example"
PARTNER = "https://reports.example.org"


def preflight(client: TestClient, path: str, origin: str):
    headers = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    return client.options(path, headers={"Origin": origin, **headers})


@pytest.mark.parametrize("path", ["/v1/ask", "/v1/ask/stream", "/v1/search", "/v1/feedback"])
def test_a_preflight_from_an_origin_not_allowed_is_refused(client, path):
    response = preflight(client, path, STRANGER)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_a_simple_request_from_an_origin_not_allowed_gets_no_cors_grant(client):
    """The server may still answer, but without the header the browser won't let the page read it."""
    response = client.post("/v1/search", json={"question": "維持和平行動", "top_k": 1}, headers={"Origin": STRANGER})
    assert "access-control-allow-origin" not in response.headers


def test_the_local_demo_origins_are_allowed_by_default(monkeypatch, pipeline):
    monkeypatch.delenv("QA_CORS_ORIGINS", raising=False)
    settings = Settings()
    assert settings.cors_origins == ["http://localhost:8000", "http://127.0.0.1:8000"]
    client = TestClient(create_app(settings, pipeline))  # no lifespan: the pipeline is already loaded
    response = preflight(client, "/v1/ask/stream", "http://localhost:8000")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:8000"


def test_origins_come_from_qa_cors_origins(monkeypatch, pipeline):
    monkeypatch.setenv("QA_CORS_ORIGINS", f'["{PARTNER}"]')
    settings = Settings()
    assert settings.cors_origins == [PARTNER]
    client = TestClient(create_app(settings, pipeline))  # no lifespan: the pipeline is already loaded

    allowed = preflight(client, "/v1/ask/stream", PARTNER)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PARTNER
    answered = client.post("/v1/search", json={"question": "維持和平行動", "top_k": 1}, headers={"Origin": PARTNER})
    assert answered.headers["access-control-allow-origin"] == PARTNER

    # the defaults are replaced, not added to
    assert preflight(client, "/v1/ask/stream", "http://localhost:8000").status_code == 400
    assert preflight(client, "/v1/ask/stream", STRANGER).status_code == 400
