"""Shared fixtures: the real models and a real index of the bundled report, built once per run.

The model cache is the user's default ($QA_HOME/models, i.e. ~/.cache/qa-service/models), so a
second run does not rebuild the packaged model; indexes go to temporary folders.
"""

from __future__ import annotations

import pytest

from qa.config import Settings
from qa.pipeline import Pipeline
from qa.store import build_index


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(index_dir=tmp_path_factory.mktemp("index") / "report")


@pytest.fixture(scope="session")
def pipeline(settings) -> Pipeline:
    """The full pipeline (embedder, hybrid retriever, trained reader) over the bundled report."""
    p = Pipeline(settings)
    build_index(settings.corpus, settings.resolved_index_dir, p.embedder)
    return p.load()


@pytest.fixture(scope="session")
def client(settings, pipeline):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings, pipeline)) as c:
        yield c
