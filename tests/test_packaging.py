"""The install (issue 35): the wheel alone serves the bundled report without torch, transformers or
sentence-transformers, from any folder; the lock files pin what pyproject.toml asks for, the serving one without the
torch tools, both the same versions."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TORCH_TOOLS = {"torch", "transformers", "sentence-transformers"}
# makes the torch tools unimportable in every Python process started with it on the path (the model builds too)
BLOCKER = """import sys
for name in ("torch", "transformers", "sentence_transformers"):
    sys.modules[name] = None
"""


def pinned(lock: Path) -> dict[str, str]:
    found = {}
    for line in lock.read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", line):
            found[m.group(1).lower().replace("_", "-")] = m.group(2)
    return found


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower().replace("_", "-") for r in requirements}


def test_lock_files_pin_the_dependencies_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    serve, test = pinned(ROOT / "requirements" / "serve.lock"), pinned(ROOT / "requirements" / "test.lock")
    assert requirement_names(project["dependencies"]) <= set(serve)
    assert not TORCH_TOOLS & set(serve)  # serving installs none of them
    extras = project["optional-dependencies"]
    wanted = requirement_names(extras["test"] + extras["milvus"] + extras["build"]) - {"cited-qa", "torch"}
    assert wanted <= set(test) and "torch" not in test  # torch comes from the Makefile's CPU pin
    assert {name: test.get(name) for name in serve} == serve  # one version of everything
    for lock in ("serve.lock", "test.lock"):
        blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", (ROOT / "requirements" / lock).read_text())[1:]
        assert blocks and all("--hash=sha256:" in block for block in blocks)  # pip installs them --require-hashes


@pytest.mark.slow
def test_the_wheel_serves_the_bundled_report_without_the_torch_tools(tmp_path):
    wheels, site, blocker, home = (tmp_path / d for d in ("wheels", "site", "blocker", "home"))
    run = dict(capture_output=True, text=True, timeout=600)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(wheels)],
                           **run)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("cited_qa-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("qa/bundled/un-sg-report-2023.zh-Hant.txt", "qa/bundled/reader/reader.json",
                    "qa/bundled/reader/calibration.json", "qa/bundled/reader/reader-00001-of-00003.safetensors",
                    "qa/bundled/english-query-map.npz",
                    "api/static/widget.js", "embeddings/xlmr-charsmap.bin"):
        assert shipped in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "data/"))]
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                                str(wheel)], **run)
    assert installed.returncode == 0, installed.stderr
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("QA_")}, "QA_HOME": str(home),
           "PYTHONPATH": os.pathsep.join([str(blocker), str(site)])}

    def qa(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "qa.cli", *args], cwd=tmp_path, env=env, **run)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        return done

    assert qa("--version").stdout.split()[1] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "version"]
    qa("index")
    answer = json.loads(qa("ask", "2022年人道主義援助籌集了多少資金?", "--json").stdout)
    assert answer["answers"][0]["paragraph"] == 7 and "300億美元" in answer["answers"][0]["text"]
    where = subprocess.run([sys.executable, "-c", "import qa, embeddings; print(qa.__file__, embeddings.__file__)"],
                           cwd=tmp_path, env=env, **run).stdout.split()
    assert all(Path(p).is_relative_to(site) for p in where)  # the wheel's files, not the checkout's
    assert sorted(p.name.split("-")[0] for p in (home / "models").iterdir() if not p.name.endswith(".lock")) == [
        "multilingual", "reader"]  # the ONNX graphs only: no Hugging Face folder for the torch tools
