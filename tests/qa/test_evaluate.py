"""`qa eval` end to end on small slices: the real pipeline in-process and over HTTP, both data
formats, the report, the comparison, and one-line errors for bad input."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from qa.cli import main
from qa.evaluate import (
    EvalError,
    HttpBackend,
    evaluate,
    load_dataset,
    squad_pipeline,
)

DATA = Path(__file__).resolve().parent.parent / "data"
SLICE = DATA / "un-report-dev-slice.jsonl"


@pytest.fixture(scope="module")
def questions():
    return load_dataset(SLICE)


# --- reading data sets --------------------------------------------------------------------------


def test_jsonl_slice_loads_with_gold_references(questions):
    assert len(questions) == 20
    by_kind = {type(q.gold).__name__ for q in questions}
    assert by_kind == {"int", "str", "NoneType"}
    box = next(q for q in questions if isinstance(q.gold, str))
    assert box.gold.startswith("box:") and box.answerable
    assert sum(not q.answerable for q in questions) == 2
    assert {q.script for q in questions} >= {"traditional", "simplified", "english"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "question": "q?", "answers": ["x"], "paragraph": 1}\n{oops\n', "bad.jsonl:2: not valid JSON"),
        ('{"id": "a", "answers": ["x"], "paragraph": 1}\n', 'bad.jsonl:1: "question" must be a non-empty string'),
        ('{"question": "q?", "answers": "x", "paragraph": 1}\n', 'bad.jsonl:1: "answers" must be a list'),
        ('{"question": "q?", "answers": ["x"], "paragraph": "7"}\n', 'bad.jsonl:1: "paragraph" must be'),
        ('{"id": "a", "question": "q?", "answers": []}\n\n{"id": "a", "question": "r?", "answers": []}\n',
         "bad.jsonl:3: duplicate id 'a'"),
        ("\n\n", "bad.jsonl: no questions found"),
    ],
)
def test_bad_jsonl_names_the_line(tmp_path, content, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(EvalError, match=re.escape(message)):
        load_dataset(bad)


def test_squad_questions_cite_their_paragraph_id(tmp_path):
    path = _squad_file(tmp_path, unanswerable=True)
    questions = load_dataset(path)
    assert [q.gold for q in questions] == ["id:r-7", "id:r-13", "id:r-35", None]
    assert questions[0].answers == ("近1.6億",) and not questions[-1].answerable


def _squad_file(tmp_path: Path, unanswerable: bool = False, name: str = "tiny_squad.json") -> Path:
    """A tiny SQuAD-format file made of the bundled report's own paragraphs (the project's licence)."""
    from qa.corpus import BUNDLED_CORPUS, load_corpus

    text = {p.paragraph: p.text for p in load_corpus(BUNDLED_CORPUS) if p.paragraph in (7, 13, 35, 38)}
    qas = {
        7: ("2022年人道主義應急行動中,有多少急需救助的人得到了維持生命的援助和保護?", "近1.6億"),
        13: ("截至2023年6月中旬,黑海倡議下出口了多少糧食?", "3200多萬噸"),
        35: ("2022年11月世界人口達到了多少?", "80億"),
    }
    paragraphs = []
    for n, context in text.items():
        entries = []
        if n in qas:
            question, answer = qas[n]
            entries.append({"id": f"q{n}", "question": question,
                            "answers": [{"text": answer, "answer_start": context.find(answer)}]})
        elif unanswerable:
            entries.append({"id": f"q{n}", "question": "聯合國總部大樓有幾層?", "answers": [], "is_impossible": True})
        paragraphs.append({"id": f"r-{n}", "context": context, "qas": entries})
    path = tmp_path / name
    path.write_text(json.dumps({"version": "test", "data": [{"title": "A/78/1", "paragraphs": paragraphs}]},
                               ensure_ascii=False), encoding="utf-8")
    return path


# --- evaluating the real pipeline ---------------------------------------------------------------


def test_evaluate_in_process(pipeline, questions):
    configured = pipeline.settings.no_answer_threshold
    result = evaluate(pipeline, questions[:6], progress=False)
    assert pipeline.settings.no_answer_threshold == configured  # put back after the sweep
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
    remote = evaluate(HttpBackend(server_url, pipeline.settings.read_k), subset, progress=False,
                      threshold=pipeline.settings.no_answer_threshold)
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
    assert page.count('src="data:image/svg+xml;base64,') == 4  # breakdowns, recall, latency, threshold
    assert "Every miss" in page and "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # self-contained: nothing fetched from elsewhere
    missed = [q for q in result["questions"] if q["miss"]]
    for q in missed:
        assert q["id"] in page


def test_cli_compare(tmp_path, capsys):
    old = {"metrics": {"em": 50.0, "f1": 60.0, "retrieval": {"recall@1": 0.9}, "latency_ms": {"p50": 300.0}},
           "questions": [{"id": "a", "question": "甲?", "answers": ["x"], "answerable": True, "prediction": "x",
                          "em": 1.0, "f1": 1.0, "gold_rank": 1}]}
    new = json.loads(json.dumps(old))
    new["metrics"].update(em=40.0, f1=55.0)
    new["questions"][0].update(prediction="y", em=0.0, f1=0.0)
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    (tmp_path / "new.json").write_text(json.dumps(new), encoding="utf-8")
    assert main(["eval", "--compare", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"f1\s+60\.0\s+55\.0\s+-5\.0\s+worse", out)
    assert "broken" in out and "verdict:" in out


def test_cli_squad_file_needs_no_setup(tmp_path, capsys):
    # named like a file the shipped reader was trained on, which the result must point out
    squad = _squad_file(tmp_path, name="DRCD_dev.json")
    index_dir = tmp_path / "squad-index"
    assert main(["eval", str(squad), "--json", "--index-dir", str(index_dir)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "the reader was trained on DRCD_dev.json" in result["warnings"][0]
    m = result["metrics"]
    assert result["dataset"]["format"] == "squad" and result["system"]["passages"] == 4
    assert m["retrieval"]["recall@10"] == 1.0 and m["retrieval"]["recall@1"] >= 2 / 3
    assert m["citation_accuracy"] >= 200 / 3 and m["f1"] > 50
    # --index-dir keeps the index: a second run reuses it instead of embedding again
    created = json.loads((index_dir / "manifest.json").read_text())["created"]
    reused = squad_pipeline(squad, index_dir=index_dir, with_reader=False)
    assert reused.index.manifest["created"] == created and len(reused.index.passages) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "no/such/file.jsonl"], "no/such/file.jsonl: no such file"),
        (["eval"], "give a DATASET"),
        (["eval", "--compare", "no-old.json", "no-new.json"], "no-old.json: no such file"),
    ],
)
def test_cli_errors_are_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_bad_line_and_unreachable_url(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q?", "answers": []}\n{"question": \n', encoding="utf-8")
    assert main(["eval", str(bad)]) == 2
    assert "bad.jsonl:2: not valid JSON" in capsys.readouterr().err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    assert main(["eval", str(SLICE), "--url", f"http://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach http://127.0.0.1:{port}/healthz" in err and "Traceback" not in err
