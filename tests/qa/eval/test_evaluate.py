"""`qa eval` end to end on small slices: the real pipeline in-process and over HTTP, both data
formats, the report and the saved result."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from qa.cli import main
from qa.eval import HttpBackend, evaluate, load_dataset, squad_pipeline

pytestmark = pytest.mark.slow

SLICE = Path(__file__).resolve().parents[2] / "data" / "un-report-dev-slice.jsonl"


@pytest.fixture(scope="module")
def questions():
    return load_dataset(SLICE)


# --- evaluating the real pipeline ---------------------------------------------------------------


def test_evaluate_in_process(pipeline, questions):
    configured = pipeline.calibration.no_answer_threshold  # the reader folder's
    before = pipeline.settings.model_dump()
    result = evaluate(pipeline, questions[:6], progress=False)
    assert pipeline.settings.model_dump() == before  # asked with a per-call threshold: settings untouched
    m = result["metrics"]
    assert result["system"]["no_answer_threshold"] == configured and result["system"]["read_k"] == 3
    assert 0 <= m["em"] <= m["f1"] <= 100 and m["has_ans"]["n"] == 6 and m["no_ans"]["n"] == 0
    assert m["best_threshold"]["f1"] >= m["f1"]
    assert m["latency_ms"]["p50"] > 0 and m["latency_ms"]["n"] == 6
    curve = result["recall_curve"]
    assert len(curve) == 10 and curve == sorted(curve) and curve[9] == m["retrieval"]["recall@10"]
    for q in result["questions"]:
        assert len(q["retrieved"]) == 10 and q["latency_ms"] > 0
        if q["prediction"]:
            assert q["cited"] is not None
    json.dumps(result)  # JSON-ready as it is


def test_retrieval_only(pipeline, questions):
    result = evaluate(pipeline, questions[:6], retrieval_only=True, progress=False)
    m = result["metrics"]
    assert "em" not in m and "threshold_sweep" not in result
    assert m["retrieval"]["n"] == 6 and m["retrieval"]["recall@10"] >= m["retrieval"]["recall@1"] > 0
    assert m["latency_ms"]["p50"] < 1000  # no reader


@pytest.fixture(scope="module")
def server_url(settings, pipeline):
    """The API over the session's pipeline, served by uvicorn on a free local port."""
    import uvicorn

    from api.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, pipeline), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_url_mode_gives_the_in_process_numbers(pipeline, questions, server_url):
    subset = questions[::3]  # 7 questions: paragraphs, a box and an unanswerable
    local = evaluate(pipeline, subset, progress=False)
    remote = evaluate(HttpBackend(server_url, pipeline.settings.read_k), subset, progress=False)
    assert remote["system"]["mode"] == "url" and remote["system"]["passages"] == 165

    def headline(result):
        return {k: v for k, v in result["metrics"].items() if k not in ("latency_ms", "best_threshold")}

    assert headline(remote) == headline(local)
    # over HTTP scores come rounded to 4 places; in-process they are exact
    for key, value in local["metrics"]["best_threshold"].items():
        assert remote["metrics"]["best_threshold"][key] == pytest.approx(value, abs=1e-4)
    assert remote["by_type"] == local["by_type"] and remote["by_script"] == local["by_script"]
    floor = local["system"]["no_answer_threshold"]
    keys = ("prediction", "em", "f1", "gold_rank", "retrieved", "reason")
    for a, b in zip(local["questions"], remote["questions"], strict=True):
        assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
        if a["prediction"]:
            assert (a["top_answer"], a["cited"]) == (b["top_answer"], b["cited"])
            assert a["score"] == pytest.approx(b["score"], abs=5e-5)
        else:  # withheld by the deployment: over HTTP its text and score are not seen
            assert b["top_answer"] == "" and b["score"] is None
    # so the threshold sweep agrees from the deployment's threshold up
    assert [r for r in local["threshold_sweep"] if r["threshold"] >= floor] == [
        r for r in remote["threshold_sweep"] if r["threshold"] >= floor
    ]


# --- the command --------------------------------------------------------------------------------


def test_cli_json_and_report(settings, tmp_path, capsys):
    report, saved = tmp_path / "r.html", tmp_path / "r.json"
    rc = main(["eval", str(SLICE), "--limit", "4", "--index-dir", str(settings.resolved_index_dir),
               "--json", "--report", str(report), "--output", str(saved)])
    out = capsys.readouterr().out
    assert rc == 0
    result = json.loads(out)
    assert result == json.loads(saved.read_text(encoding="utf-8"))
    assert result["dataset"]["questions"] == 4 and result["dataset"]["format"] == "jsonl"
    page = report.read_text(encoding="utf-8")
    assert page.count('src="data:image/svg+xml;base64,') == 5  # breakdowns, recall, latency, threshold, coverage
    assert "Every miss" in page and "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # self-contained: nothing fetched from elsewhere
    missed = [q for q in result["questions"] if q["miss"]]
    for q in missed:
        assert q["id"] in page


def test_cli_squad_file_needs_no_setup(tmp_path, capsys, squad_file):
    # named like a file the shipped reader was trained on, which the result must point out
    squad = squad_file(tmp_path, name="DRCD_dev.json")
    index_dir = tmp_path / "squad-index"
    assert main(["eval", str(squad), "--json", "--index-dir", str(index_dir)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "the reader was trained on DRCD_dev.json" in result["warnings"][0]
    m = result["metrics"]
    assert result["dataset"]["format"] == "squad" and result["system"]["passages"] == 4
    assert m["retrieval"]["recall@10"] == 1.0 and m["retrieval"]["recall@1"] >= 2 / 3
    assert m["citation_accuracy"] >= 200 / 3 and m["f1"] > 50
    # --index-dir keeps the index: a second run reuses it instead of embedding again
    created = json.loads((index_dir / "current" / "manifest.json").read_text())["created"]
    reused = squad_pipeline(squad, index_dir=index_dir, with_reader=False)
    assert reused.index.manifest["created"] == created and len(reused.index.passages) == 4
