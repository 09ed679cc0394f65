"""Check the follow-up-question set (conversations) against the report it is about.

Usage:
    python3 check_conversations.py [CONVERSATIONS.jsonl [CORPUS.txt]] [--verbose]

Defaults: un-report-conversations.jsonl next to this script and ../un-sg-report-2023.zh-Hant.txt.

Each line is {"id", "turns", "answers", "paragraph", "kind", "script", "standalone"}:
`turns` alternates user/assistant, starts and ends with a user turn and has 2 to 4 user turns;
the last user turn is the follow-up to answer. Checks, for every line: it parses and has exactly
those fields; ids are unique; kind and script are known values; unanswerable <=> answers [] and
paragraph null; otherwise 1-3 distinct, unpadded answers, each verbatim in the cited passage
(paragraph N = the corpus line starting "N.", prefix stripped; "box:<title>" = the indented lines
under that box title); every assistant turn shares a run of at least 2 characters with the report
that is not just punctuation or spacing (and holds a CJK character or digit), every "(¶N)"/"[¶N]"
marker names a real paragraph, and a turn of the form "<span> (¶N)" has <span> verbatim in
paragraph N; `standalone` is non-empty, equals the follow-up for topic-shift and differs from it
otherwise; the follow-up and `standalone` look like the declared script (English: no CJK;
simplified/traditional: none of the other script's common characters). Prints counts by kind,
script, number of user turns and form of assistant turn; exits 1 listing every problem.
Standard library only.
"""
import collections
import json
import re
import sys
import unicodedata
from pathlib import Path

from check_dev_set import CJK, SIMP_ONLY, TRAD_ONLY, load_corpus  # the same rules as the dev sets' check

HERE = Path(__file__).resolve().parent
DEFAULT_SET = HERE / "un-report-conversations.jsonl"
DEFAULT_CORPUS = HERE.parent.parent / "qa" / "bundled" / "un-sg-report-2023.zh-Hant.txt"

FIELDS = {"id", "turns", "answers", "paragraph", "kind", "script", "standalone"}
KINDS = ("ellipsis", "pronoun", "same-topic-other-detail", "topic-shift", "unanswerable")
SCRIPTS = ("traditional", "simplified", "english")
MARKER = re.compile(r"[(\[]¶(\d+)[)\]]")
MARKED_SPAN = re.compile(r"^(.*\S) [(\[]¶(\d+)[)\]]$", re.S)


def is_filler(c):
    """Punctuation, symbols and spacing: characters that do not make a span."""
    return c.isspace() or unicodedata.category(c)[0] in "PSZ"


def longest_shared_run(turn, text):
    """The longest substring of `turn` that occurs in `text`."""
    best = ""
    for i in range(len(turn)):
        j = i + len(best) + 1
        if j > len(turn) or turn[i:j] not in text:
            continue
        while j < len(turn) and turn[i:j + 1] in text:
            j += 1
        best = turn[i:j]
    return best


def counts_as_span(run):
    core = [c for c in run if not is_filler(c)]
    return len(core) >= 2 and any(CJK.match(c) or c.isdigit() for c in core)


def script_problems(text, script):
    if script == "english":
        return ["has CJK characters"] if CJK.search(text) else []
    out = []
    if not CJK.search(text):
        out.append("has no CJK characters")
    wrong = sorted(set(text) & (TRAD_ONLY if script == "simplified" else SIMP_ONLY))
    if wrong:
        out.append(f"has {'traditional' if script == 'simplified' else 'simplified'} characters {''.join(wrong)}")
    return out


def main(argv):
    verbose = "--verbose" in argv
    args = [a for a in argv if a != "--verbose"]
    set_path = Path(args[0]) if args else DEFAULT_SET
    corpus_path = Path(args[1]) if len(args) > 1 else DEFAULT_CORPUS
    raw = Path(corpus_path).read_text(encoding="utf-8")
    paras, boxes = load_corpus(corpus_path)

    problems = []
    items, ids, standalones = [], set(), {}
    forms = collections.Counter()
    for n, line in enumerate(open(set_path, encoding="utf-8"), 1):
        if not line.strip():
            problems.append(f"line {n}: blank line")
            continue
        try:
            c = json.loads(line)
        except ValueError as e:
            problems.append(f"line {n}: not JSON ({e})")
            continue
        if not isinstance(c, dict) or set(c) != FIELDS:
            got = sorted(c) if isinstance(c, dict) else type(c).__name__
            problems.append(f"line {n}: fields should be {sorted(FIELDS)}, got {got}")
            continue
        where = f"line {n} ({c['id']})"
        bad = lambda msg: problems.append(f"{where}: {msg}")  # noqa: E731

        if not isinstance(c["id"], str) or not c["id"].strip():
            bad("empty or non-string id")
        elif c["id"] in ids:
            bad("duplicate id")
        ids.add(c["id"])
        kind, script, answers, cite, standalone = (c["kind"], c["script"], c["answers"], c["paragraph"],
                                                   c["standalone"])
        if kind not in KINDS:
            bad(f"unknown kind {kind!r}")
        if script not in SCRIPTS:
            bad(f"unknown script {script!r}")

        # turns: user, assistant, ..., user; 2-4 user turns
        turns = c["turns"]
        if not isinstance(turns, list) or not turns:
            bad("turns must be a non-empty list")
            continue
        ok_turns = True
        for i, t in enumerate(turns):
            want = "user" if i % 2 == 0 else "assistant"
            if not isinstance(t, dict) or set(t) != {"role", "content"}:
                bad(f"turn {i}: must be {{'role', 'content'}}")
                ok_turns = False
                continue
            if t["role"] != want:
                bad(f"turn {i}: role {t['role']!r}, expected {want!r} (turns alternate, user first)")
                ok_turns = False
            if not isinstance(t["content"], str) or not t["content"].strip():
                bad(f"turn {i}: empty content")
                ok_turns = False
        if len(turns) % 2 == 0:
            bad("turns must end with a user turn")
        n_user = (len(turns) + 1) // 2
        if not 2 <= n_user <= 4:
            bad(f"{n_user} user turns (want 2 to 4)")
        if not ok_turns:
            continue
        follow_up = turns[-1]["content"]

        # assistant turns: a verbatim span of the report; paragraph markers real
        for i, t in enumerate(turns):
            if t["role"] != "assistant":
                continue
            text = t["content"]
            run = longest_shared_run(text, raw)
            if not counts_as_span(run):
                bad(f"turn {i}: assistant turn has no verbatim span of the report (longest shared run {run!r})")
            for num in MARKER.findall(text):
                if int(num) not in paras:
                    bad(f"turn {i}: marker ¶{num} is not a paragraph of the report")
            m = MARKED_SPAN.match(text)
            if m and int(m.group(2)) in paras and m.group(1) not in paras[int(m.group(2))]:
                bad(f"turn {i}: {m.group(1)!r} is not verbatim in paragraph {m.group(2)}")
            form = "span+marker" if m else ("span" if text in raw else "sentence")
            forms[form] += 1
            if verbose:
                print(f"{c['id']} turn {i} [{form}]: {run}")

        # answers and the passage they come from
        unans = kind == "unanswerable"
        if not isinstance(answers, list) or not all(isinstance(s, str) and s and s == s.strip() for s in answers):
            bad("answers must be a list of non-empty, unpadded strings")
            answers = []
        elif len(set(answers)) != len(answers):
            bad("repeated answer")
        if unans != (answers == []) or unans != (cite is None) or (answers == []) != (cite is None):
            bad("unanswerable <=> answers [] and paragraph null (kind 'unanswerable')")
        if not unans and not 1 <= len(answers) <= 3:
            bad(f"{len(answers)} answers (want 1 to 3)")
        passage = None
        if cite is None:
            pass
        elif isinstance(cite, bool):
            bad(f"bad paragraph {cite!r}")
        elif isinstance(cite, int):
            if cite not in paras:
                bad(f"no paragraph {cite}")
            passage = paras.get(cite)
        elif isinstance(cite, str) and cite.startswith("box:"):
            if cite[4:] not in boxes:
                bad(f"no box titled {cite[4:]!r}")
            passage = boxes.get(cite[4:])
        else:
            bad(f"bad paragraph {cite!r}")
        if passage is not None:
            for s in answers:
                if s not in passage:
                    bad(f"answer {s!r} not verbatim in {cite!r}")

        # standalone rewrite
        if not isinstance(standalone, str) or not standalone.strip():
            bad("standalone missing or empty")
        else:
            if kind == "topic-shift" and standalone != follow_up:
                bad("topic-shift: standalone must equal the last user turn")
            if kind != "topic-shift" and standalone.strip() == follow_up.strip():
                bad("standalone repeats the follow-up unchanged (only topic-shift follow-ups stand alone)")
            if standalone in standalones:
                bad(f"same standalone question as {standalones[standalone]}")
            standalones[standalone] = c["id"]
            if script in SCRIPTS:
                for p in script_problems(standalone, script):
                    bad(f"standalone {p} (script {script})")
        if script in SCRIPTS:
            for p in script_problems(follow_up, script):
                bad(f"follow-up {p} (script {script})")
        items.append(c)

    by_kind = collections.Counter(c["kind"] for c in items)
    by_script = collections.Counter(c["script"] for c in items)
    by_turns = collections.Counter((len(c["turns"]) + 1) // 2 for c in items)
    cited = collections.Counter(str(c["paragraph"]) for c in items if c["paragraph"] is not None)
    print(f"{len(items)} conversations; corpus has {len(paras)} paragraphs and {len(boxes)} boxes")
    print("  kind:   " + ", ".join(f"{k} {by_kind[k]}" for k in KINDS))
    print("  script: " + ", ".join(f"{s} {by_script[s]}" for s in SCRIPTS))
    print("  user turns: " + ", ".join(f"{k}: {by_turns[k]}" for k in sorted(by_turns)))
    print("  assistant turns: " + ", ".join(f"{k} {v}" for k, v in sorted(forms.items())))
    print(f"  distinct passages cited: {len(cited)} ({sum(k.startswith('box:') for k in cited)} boxes)")
    for p in problems:
        print("PROBLEM:", p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
