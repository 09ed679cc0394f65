"""Check a cited-QA question set (JSONL) against the report it is about.

Usage:
    python3 check_dev_set.py DEV.jsonl CORPUS.txt [--against OLD.jsonl ...]
                             [--expect english=60,simplified=40,traditional=20,unanswerable=60]

Each line is {"id", "question", "answers", "paragraph", "type", "script"} (see
shared/docs/EVAL.md). Checks: every line parses and has exactly those fields; ids and
questions are unique; type/script are known values; unanswerable items have answers [],
paragraph null and type "unanswerable" (and only they); every answer occurs verbatim in the
cited passage (paragraph N = the corpus line starting "N.", prefix stripped; "box:<title>" =
the indented lines under that box title); the question's script looks right (English has no
CJK, simplified/traditional have none of the other script's common characters); with
--against, no question repeats (or nearly repeats) a question there, nor asks for the same
answer from the same passage; with --expect, the counts of answerable questions per script
and of unanswerable ones are as given. Prints counts; exits 1 on any problem.
Standard library only.
"""
import argparse
import collections
import difflib
import json
import re
import sys
import unicodedata

TYPES = {"number", "date", "entity", "place", "phrase", "why/how", "unanswerable"}
SCRIPTS = {"traditional", "simplified", "english", "mixed"}
FIELDS = {"id", "question", "answers", "paragraph", "type", "script"}
# (simplified, traditional) pairs of common characters that differ between the scripts
PAIRS = ("这這 个個 们們 说說 为為 国國 会會 时時 发發 应應 对對 么麼 开開 关關 来來 经經 过過 "
         "当當 进進 动動 还還 实實 现現 与與 两兩 书書 联聯 议議 该該 谁誰 几幾 "
         "处處 间間 问問 题題 报報 长長 门門 亿億 万萬 区區 际際 团團 组組 织織 "
         "务務 战戰 权權 难難 机機 构構 协協 签簽 约約 员員 举舉 办辦 财財 钱錢 数數 "
         "项項 标標 产產 农農 业業 无無 边邊 岛島 种種 记記 录錄 级級 护護 险險 灾災 "
         "届屆 让讓 给給 谈談 从從 后後").split()
SIMP_ONLY = {p[0] for p in PAIRS}
TRAD_ONLY = {p[1] for p in PAIRS}
CJK = re.compile(r"[\u3400-\u9fff]")


def norm(s):
    s = unicodedata.normalize("NFKC", s).lower()
    return "".join(c for c in s if not (c.isspace() or unicodedata.category(c)[0] in "PS"))


def load_corpus(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    paras, boxes = {}, {}
    for i, line in enumerate(lines):
        m = re.match(r"(\d+)\.(.*)", line)
        if m:
            paras[int(m.group(1))] = m.group(2)
        elif (line.strip() and not line[0].isspace() and line.endswith(" ")
              and i + 1 < len(lines) and lines[i + 1].startswith("  ")):
            body = []
            for nxt in lines[i + 1:]:
                if not nxt.startswith("  "):
                    break
                body.append(nxt.strip())
            boxes[line.rstrip()] = "\n".join(body)
    return paras, boxes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dev")
    ap.add_argument("corpus")
    ap.add_argument("--against", action="append", default=[], help="older set(s) to compare with")
    ap.add_argument("--expect", default="", help="e.g. english=60,simplified=40,unanswerable=60")
    a = ap.parse_args()

    paras, boxes = load_corpus(a.corpus)
    problems = []
    bad = problems.append
    items, ids, questions = [], set(), {}
    for n, raw in enumerate(open(a.dev, encoding="utf-8"), 1):
        if not raw.strip():
            bad(f"line {n}: blank line")
            continue
        try:
            q = json.loads(raw)
        except ValueError as e:
            bad(f"line {n}: not JSON ({e})")
            continue
        if not isinstance(q, dict) or set(q) != FIELDS:
            bad(f"line {n}: fields should be {sorted(FIELDS)}")
            continue
        qid, text, answers, cite = q["id"], q["question"], q["answers"], q["paragraph"]
        where = f"line {n} ({qid})"
        if qid in ids:
            bad(f"{where}: duplicate id")
        ids.add(qid)
        if not isinstance(text, str) or not text.strip():
            bad(f"{where}: empty question")
            continue
        if norm(text) in questions:
            bad(f"{where}: same question as {questions[norm(text)]}")
        questions[norm(text)] = qid
        if q["type"] not in TYPES:
            bad(f"{where}: unknown type {q['type']!r}")
        if q["script"] not in SCRIPTS:
            bad(f"{where}: unknown script {q['script']!r}")
        if not isinstance(answers, list) or not all(isinstance(s, str) and s and s == s.strip()
                                                    for s in answers):
            bad(f"{where}: answers must be non-empty, unpadded strings")
            continue
        if len(set(answers)) != len(answers):
            bad(f"{where}: repeated answer")
        unans = q["type"] == "unanswerable"
        if unans != (answers == []) or unans != (cite is None):
            bad(f"{where}: unanswerable needs answers [], paragraph null and type unanswerable")
        # where the answers must be found
        if isinstance(cite, bool):
            bad(f"{where}: bad paragraph {cite!r}")
        elif isinstance(cite, int):
            if cite not in paras:
                bad(f"{where}: no paragraph {cite}")
            passage = paras.get(cite, "")
        elif isinstance(cite, str) and cite.startswith("box:"):
            if cite[4:] not in boxes:
                bad(f"{where}: no box titled {cite[4:]!r}")
            passage = boxes.get(cite[4:], "")
        elif cite is None:
            passage = ""
        else:
            bad(f"{where}: bad paragraph {cite!r}")
            passage = ""
        for s in answers:
            if passage and s not in passage:
                bad(f"{where}: answer {s!r} not verbatim in {cite!r}")
        # does the question look like its script?
        script = q["script"]
        if script == "english" and CJK.search(text):
            bad(f"{where}: English question contains CJK characters")
        if script in ("simplified", "traditional"):
            other = TRAD_ONLY if script == "simplified" else SIMP_ONLY
            wrong = sorted(set(text) & other)
            if wrong:
                bad(f"{where}: {script} question has {''.join(wrong)}")
            if not CJK.search(text):
                bad(f"{where}: {script} question has no CJK characters")
        items.append(q)

    for old_path in a.against:
        old = [json.loads(line) for line in open(old_path, encoding="utf-8") if line.strip()]
        for q in items:
            for o in old:
                r = difflib.SequenceMatcher(None, norm(q["question"]), norm(o["question"])).ratio()
                if r >= 0.8:
                    bad(f"{q['id']}: question close to {o['id']} ({r:.2f})")
                if (q["answers"] and q["paragraph"] == o["paragraph"]
                        and {norm(s) for s in q["answers"]} & {norm(s) for s in o["answers"]}):
                    bad(f"{q['id']}: same passage and answer as {o['id']}")

    by_script = collections.Counter((q["script"], q["type"] == "unanswerable") for q in items)
    by_type = collections.Counter(q["type"] for q in items)
    boxed = collections.Counter(q["script"] for q in items if str(q["paragraph"]).startswith("box:"))
    cited = {q["paragraph"] for q in items if q["paragraph"] is not None}
    print(f"{len(items)} questions; corpus has {len(paras)} paragraphs and {len(boxes)} boxes")
    for s in sorted(SCRIPTS):
        print(f"  {s:12s} answerable {by_script[(s, False)]:3d}  unanswerable "
              f"{by_script[(s, True)]:3d}  citing a box {boxed[s]:3d}")
    print("  types: " + ", ".join(f"{t} {c}" for t, c in sorted(by_type.items())))
    print(f"  distinct passages cited: {len(cited)} "
          f"({sum(str(c).startswith('box:') for c in cited)} boxes)")

    for part in filter(None, a.expect.split(",")):
        key, _, want = part.partition("=")
        got = by_type["unanswerable"] if key == "unanswerable" else by_script[(key, False)]
        if got != int(want):
            bad(f"expected {want} {key}, found {got}")

    for p in problems:
        print("PROBLEM:", p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
