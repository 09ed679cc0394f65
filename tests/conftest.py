"""Shared fixtures: the real models and a real index of the bundled report, built once per run.

Markers: `slow` (loads models or runs the CLI end to end; added automatically to every test that
uses the `pipeline` fixture) and `browser` (drives Chromium). `pytest -m "not slow"` is the quick loop.

The model cache is the user's default ($QA_HOME/models, i.e. ~/.cache/qa-service/models), so a
second run does not rebuild the packaged model; indexes go to temporary folders.
"""

from __future__ import annotations

import pytest

from qa.config import Settings
from qa.pipeline import Pipeline
from qa.storage.collection import build_index


def pytest_collection_modifyitems(items):
    """Every test that needs the loaded pipeline is `slow`, so `pytest -m "not slow"` skips model loading."""
    for item in items:
        if "pipeline" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(index_dir=tmp_path_factory.mktemp("index") / "report")


@pytest.fixture(scope="session")
def pipeline(settings) -> Pipeline:
    """The full pipeline (embedder, hybrid retriever, trained reader) over the bundled report."""
    p = Pipeline(settings)
    build_index(settings, p.embedder)
    return p.load()


@pytest.fixture(scope="session")
def client(settings, pipeline):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings, pipeline)) as c:
        yield c


@pytest.fixture(scope="session")
def variant(pipeline):
    """`variant(**settings)`: a Pipeline with other settings sharing the loaded models and index."""

    def make(**updates) -> Pipeline:
        p = Pipeline(pipeline.settings.model_copy(update=updates))
        p.embedder, p.reader = pipeline.embedder, pipeline.reader
        return p.load()

    return make
