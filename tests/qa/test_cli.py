"""The installed `qa` command, as a user runs it: clear one-line errors, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def qa(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_help_explains_commands():
    out = qa("--help").stdout
    for command in ("index", "search", "ask", "serve", "eval", "train-reader"):
        assert command in out
    assert "QA_" in out


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question(question):
    r = qa("ask", question)
    assert r.returncode == 2 and "the question is empty" in r.stderr and "Traceback" not in r.stderr


def test_huge_question(tmp_path):
    r = qa("search", "問" * 40_000)  # 120 kB, near the OS limit for one argument
    assert r.returncode == 2 and "the limit is 1000" in r.stderr


@pytest.mark.slow  # loads the models in a subprocess
def test_missing_index(tmp_path):
    r = qa("search", "聯合國", "--index-dir", str(tmp_path / "nothing"))
    assert r.returncode == 2 and "no index" in r.stderr and "qa index" in r.stderr


def test_corrupt_corpus(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "ok"}\n{oops\n', encoding="utf-8")
    r = qa("index", "--corpus", str(bad), "--index-dir", str(tmp_path / "ix"))
    assert r.returncode == 2 and "bad.jsonl:2: not valid JSON" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "ix").exists()  # nothing half-written


@pytest.mark.parametrize(("recipe", "message"), [
    (None, "No such file"), ("{bad", "line 1 column 2"), ("[]", "expected a JSON object"),
    ('{"translations": ["nope.jsonl"]}', "file not found: nope.jsonl"),
    ('{"unanswerables": 10}', "unknown keys unanswerables"),
    ('{"retriever_negatives": "none.jsonl"}', "file not found: none.jsonl"),
    ('{"retriever_negatives": "RECIPE_DIR/recipe.json"}', "line 1 is not a mined negative"),
    ('{"sample_seed": "14", "chinese": -1}', "chinese, sample_seed must be whole numbers >= 0"),
])
def test_a_bad_training_recipe_is_one_line(tmp_path, recipe, message):
    data = tmp_path / "tiny.json"
    data.write_text('{"data": []}', encoding="utf-8")
    path = tmp_path / "recipe.json"
    if recipe is not None:  # a recipe naming itself as its negatives file: JSON, but not mined rows
        path.write_text(recipe.replace("RECIPE_DIR", tmp_path.as_posix()), encoding="utf-8")
    r = qa("train-reader", "--data", str(data), "--recipe", str(path), "--output", str(tmp_path / "out"))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_init_from_a_folder_without_a_reader_is_one_line(tmp_path):
    data = tmp_path / "tiny.json"
    data.write_text('{"data": []}', encoding="utf-8")
    r = qa("train-reader", "--data", str(data), "--init-from", str(tmp_path))
    assert r.returncode == 2 and "no reader-*.safetensors there" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--data", "missing.json"], "error: not found: missing.json"),
    (["--depth", "0"], "--depth must be at least 1"),
    (["--translations", "TMP/bad.jsonl"], 'translations: not JSONL of {"id", "question"} lines'),
])
def test_mine_negatives_errors_are_one_line(tmp_path, args, message):
    data = tmp_path / "tiny.json"
    data.write_text('{"data": []}', encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text("{bad", encoding="utf-8")
    out = tmp_path / "negatives.jsonl"
    args = [a.replace("TMP", tmp_path.as_posix()) for a in args]
    r = qa("mine-negatives", *(args if args[0] == "--data" else ["--data", str(data), *args]), "--output", str(out),
           env={"QA_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


@pytest.mark.parametrize(("translations", "message"), [
    (None, "error: not found: "),
    ("{bad", 'translations: not JSONL of {"id", "question"} lines'),
    pytest.param('{"id": "zz", "question": "When?"}', "no translated question matches", marks=pytest.mark.slow),
])
def test_train_query_map_errors_are_one_line(tmp_path, translations, message):
    data = tmp_path / "tiny.json"
    question = {"id": "q1", "question": "大橋何時動工?", "answers": [{"text": "2021年", "answer_start": 4}]}
    paragraph = {"id": "p1", "context": "跨河大橋於2021年動工。", "qas": [question]}
    data.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [paragraph]}]}, ensure_ascii=False),
                    encoding="utf-8")
    path = tmp_path / "tr.jsonl"
    if translations is not None:
        path.write_text(translations, encoding="utf-8")
    out = tmp_path / "map.npz"
    r = qa("train-query-map", "--data", str(data), "--translations", str(path), "--output", str(out),
           env={"QA_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


@pytest.mark.slow  # loads the models in a subprocess
def test_index_search_and_ask_json(tmp_path, settings):
    doc = tmp_path / "doc.jsonl"
    lines = ['{"id": "a", "text": "跨河大橋於2021年動工,預計明年通車。"}', '{"id": "b", "text": "新學校九月開學。"}']
    doc.write_text("\n".join(lines), encoding="utf-8")
    ix = str(tmp_path / "ix")
    env = {"QA_HOME": str(settings.home)}
    r = qa("index", "--corpus", str(doc), "--index-dir", ix, env=env)
    assert r.returncode == 0, r.stderr
    assert (
        qa("index", "--if-needed", "--corpus", str(doc), "--index-dir", ix, env=env)
        .stdout.strip()
        .endswith("up to date")
    )
    r = qa("ask", "大橋哪一年動工?", "--json", "--corpus", str(doc), "--index-dir", ix, env=env)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["passages"][0]["id"] == "doc:a" and "2021" in body["answers"][0]["text"]
    assert body["answers"][0]["document"] == {"id": "doc", "title": "doc", "file": "doc.jsonl"}


def test_unwritable_home_is_one_line(tmp_path):
    doc = tmp_path / "doc.jsonl"
    doc.write_text('{"id": "a", "text": "新學校九月開學。"}', encoding="utf-8")
    r = qa("index", "--corpus", str(doc), env={"QA_HOME": "/proc/x"})
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.splitlines()[-1].startswith("qa index: error: cannot write the model cache /proc/x/models: ")
    r = qa("ask", "新學校哪個月開學?", env={"QA_HOME": "/proc/x"})
    assert r.returncode == 2 and r.stderr == "qa ask: error: no index in /proc/x/index; build one with `qa index`\n"


@pytest.mark.slow  # builds the packaged model once more, into a temporary QA_HOME
def test_a_broken_model_build_is_named_and_rebuilt_once_deleted(tmp_path, settings):
    """A model folder whose marker matches but whose graph is gone (a hand's edit, a full disk): one line naming the
    file and what to do; once the folder is deleted, the next start builds it again (no torch needed)."""
    from embeddings.encoder import Embedder
    from qa.storage.collection import build_index

    doc = tmp_path / "doc.jsonl"
    doc.write_text('{"id": "a", "text": "跨河大橋於2021年動工。"}\n{"id": "b", "text": "新學校九月開學。"}\n',
                   encoding="utf-8")
    embedder = Embedder.from_settings(settings).load()  # the user's cache: the encoder's graph
    build_index(settings.model_copy(update={"corpus": doc, "index_dir": tmp_path / "ix"}), embedder)
    models = tmp_path / "home" / "models"
    built = "multilingual-e5-small-encoder-onnx-fp32"
    (models / built).mkdir(parents=True)
    (models / built / "build.json").write_bytes((settings.model_cache_dir / built / "build.json").read_bytes())
    (models / built / "model.onnx").write_bytes(b"")  # its marker matches, its model is gone
    search = ("search", "大橋哪一年動工?", "--corpus", str(doc), "--index-dir", str(tmp_path / "ix"))
    r = qa(*search, env={"QA_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    last = r.stderr.splitlines()[-1]
    assert last.startswith(f"qa search: error: {models / built / 'model.onnx'} is unusable (")
    assert last.endswith("delete its folder to rebuild it")
    shutil.rmtree(models / built)  # as the message says
    r = qa(*search, env={"QA_HOME": str(tmp_path / "home")})
    assert r.returncode == 0 and "[a]" in r.stdout.splitlines()[0], r.stderr
    assert (models / built / "model.onnx").stat().st_size > 1_000_000
    assert not (models / "multilingual-e5-small-v3").exists()  # the torch tools' folder: serving never builds it


READER = str(Path(__file__).resolve().parents[2] / "qa" / "bundled" / "reader")


@pytest.mark.parametrize(("readers", "output", "message"), [
    ([READER], None, "give two reader folders or more"),
    ([READER, "nope"], None, "not found: nope"),
    ([READER, READER], READER, "--output must be a new folder"),
])
def test_average_readers_errors_are_one_line(tmp_path, readers, output, message):
    r = qa("average-readers", *readers, "--output", output or str(tmp_path / "out"))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
