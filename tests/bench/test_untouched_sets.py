"""The untouched sets stay usable and untouched: every DRCD question passes bench.untouched's checks and asks
about a held-out article only (never a training paragraph), and the report set passes the dev-set checker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.untouched import UNTOUCHED, check, held_out_paragraphs, read_rows

ROOT = Path(__file__).resolve().parents[2]
DRCD = ROOT.parent / "shared" / "data" / "mrc" / "DRCD_dev.json"
EVAL = ROOT / "data" / "eval"


@pytest.fixture(scope="module")
def paragraphs():
    if not DRCD.is_file():
        pytest.skip(f"DRCD dev is not at {DRCD}")
    return held_out_paragraphs(DRCD)


def test_the_drcd_untouched_questions_pass_every_check(paragraphs):
    rows, problems = read_rows(sorted(UNTOUCHED.glob("*.jsonl")))
    assert not problems + check(rows, paragraphs)
    assert len(rows) >= 300 and {r.script for r in rows} == {"traditional", "simplified", "english"}
    assert sum(not r.answers for r in rows) >= 30


def test_the_checks_catch_an_answer_that_is_not_in_its_paragraph(paragraphs, tmp_path):
    pid, (_, context) = next(iter(paragraphs.items()))
    bad = tmp_path / "bad.jsonl"
    row = {"id": "x", "paragraph_id": pid, "question": "誰?", "answers": [context[:3] + "不在。"],
           "script": "traditional", "type": "entity"}
    bad.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    rows, problems = read_rows([bad])
    assert not problems and len(check(rows, paragraphs)) == 1


def test_the_report_untouched_set_passes_the_dev_set_checker():
    run = subprocess.run(
        [sys.executable, str(EVAL / "check_dev_set.py"), str(EVAL / "un-report-untouched.jsonl"),
         str(ROOT / "qa" / "bundled" / "un-sg-report-2023.zh-Hant.txt"), "--against", str(EVAL / "un-report-dev.jsonl"),
         "--against", str(EVAL / "un-report-dev2.jsonl")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]


def test_an_unreadable_question_file_is_a_problem_line_not_a_traceback(tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"\xff\xfe")
    rows, problems = read_rows([broken, tmp_path / "missing.jsonl"])
    assert rows == [] and len(problems) == 2 and all("unreadable" in p for p in problems)
