"""Every field of a real index's manifest is checked at load (issue 35): a damaged count or kind is refused in one
line, and an index whose source file is gone is served with a warning, not silently."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from qa.storage.collection import build_index
from qa.storage.layout import IndexUnusableError, current_version
from qa.storage.lifecycle import open_index

DOC = ['{"id": "bridge", "text": "跨河大橋於2021年動工,預計明年通車。"}',
       '{"id": "school", "text": "新學校在九月開學,共招收了四百名學生。"}']


@pytest.fixture(scope="module")
def built(tmp_path_factory, settings, pipeline):
    folder = tmp_path_factory.mktemp("fields")
    corpus = folder / "doc.jsonl"
    corpus.write_text("\n".join(DOC) + "\n", encoding="utf-8")
    index_settings = settings.model_copy(update={"index_dir": folder / "ix", "corpus": corpus})
    build_index(index_settings, pipeline.embedder)
    return index_settings


def damaged(built, tmp_path, **changes):
    """A copy of the index whose manifest has these fields changed; its settings."""
    copy = tmp_path / "ix"
    shutil.copytree(built.index_dir, copy, symlinks=True)
    manifest_path = current_version(copy) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, **changes}))
    return built.model_copy(update={"index_dir": copy})


@pytest.mark.parametrize(("changes", "says"), [
    ({"passages": 3}, "the manifest counts 3 passages and 1 documents, the files hold 2 and 1"),
    ({"documents": 2}, "the manifest counts 2 passages and 2 documents"),
    ({"passage_vectors": "averaged"}, "unknown passage_vectors 'averaged'"),
    ({"passages": "2"}, "'passages' is not an integer"),
    ({"model": 7}, "'model' is not a string"),
])
def test_a_damaged_field_is_refused_in_one_line(built, tmp_path, changes, says):
    with pytest.raises(IndexUnusableError) as refused:
        open_index(damaged(built, tmp_path, **changes))
    assert says in str(refused.value) and "qa index" in str(refused.value) and "\n" not in str(refused.value)


def test_an_index_whose_source_is_gone_is_served_with_a_warning(built, tmp_path, caplog):
    settings = damaged(built, tmp_path, corpus=str(tmp_path / "moved.jsonl"))
    settings = settings.model_copy(update={"corpus": tmp_path / "moved.jsonl"})
    settings.model_fields_set.discard("corpus")  # not named by the user: the manifest's file is the one checked
    with caplog.at_level(logging.WARNING, logger="qa.storage.lifecycle"):
        store = open_index(settings)
    assert len(store.passages) == 2
    assert any("moved.jsonl, which the index was built from, is gone" in r.getMessage() for r in caplog.records)
