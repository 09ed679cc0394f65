"""`qa eval` where no model is needed: --compare, and one-line errors for bad input."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from qa.cli import main

SLICE = Path(__file__).resolve().parents[2] / "data" / "un-report-dev-slice.jsonl"


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
