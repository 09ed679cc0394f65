"""The console view of a result (`qa eval`) and of a comparison (`qa eval --compare`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from qa.eval.backends import URL_SWEEP_NOTE
from qa.eval.score import RECALL_KS


def _fmt(value, kind: str = "pct") -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value:.1f}"
    if kind == "frac":
        return f"{value:.3f}"
    if kind == "ms":
        return f"{value:.0f}"
    if kind == "g":
        return f"{value:.4g}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], left: Sequence[int] = (0,)) -> str:
    from unicodedata import east_asian_width

    def width(s: str) -> int:
        return sum(2 if east_asian_width(c) in "WF" else 1 for c in s)

    rows = [list(map(str, r)) for r in rows]
    widths = [max(width(str(h)), *(width(r[i]) for r in rows)) if rows else width(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, c in enumerate(cells):
            pad = " " * (widths[i] - width(c))
            parts.append(c + pad if i in left else pad + c)
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def format_summary(result: dict) -> str:
    """The console view: headline numbers, breakdowns, and why the misses were missed."""
    m, sysinfo, ds = result["metrics"], result["system"], result["dataset"]
    out = [f"{ds.get('name', 'dataset')}: {ds['questions']} questions ({ds['answerable']} answerable, "
           f"{ds['unanswerable']} unanswerable) · {sysinfo['mode']}"
           + (f" {sysinfo['url']}" if sysinfo.get("url") else "")
           + f" · reads top {sysinfo['read_k']} · threshold {sysinfo['no_answer_threshold']:g}", ""]
    rows = []
    if not result["retrieval_only"]:
        best = m["best_threshold"]
        rows += [
            ("EM", _fmt(m["em"]), f"HasAns {_fmt(m['has_ans']['em'])} (n={m['has_ans']['n']}) · "
                                   f"NoAns {_fmt(m['no_ans']['em'])} (n={m['no_ans']['n']})"),
            ("F1", _fmt(m["f1"]), f"HasAns {_fmt(m['has_ans']['f1'])} · NoAns {_fmt(m['no_ans']['f1'])}"),
            ("no-answer accuracy", _fmt(m["no_answer_accuracy"]),
             f"answered {_fmt(m['answered'])}% of questions · "
             f"withheld {_fmt(m.get('answerable_withheld'))}% of answerable"),
            ("citation accuracy", _fmt(m["citation_accuracy"]), "top answer cites the gold passage"),
            *[(name, _fmt(m[key]["percent"]), f"shown answers citing the gold {what} (n={m[key]['n']}); "
                                              f"{_fmt(m[key]['of_all'])}% of all {m[key]['questions']}")
              for key, name, what in (("document_at_1", "document@1", "document"), ("page_at_1", "page@1", "page"))
              if m.get(key)],
            ("best threshold", f"{best['threshold']:.4g}", f"F1 {_fmt(best['f1'])} · EM {_fmt(best['em'])} · "
                                                            f"no-answer acc. {_fmt(best['no_answer_accuracy'])}"),
        ]
    r = m["retrieval"]
    rows += [
        ("Recall@1/3/5/10", " / ".join(_fmt(r[f"recall@{k}"], "frac") for k in RECALL_KS), f"n={r['n']}"),
        ("MRR@10", _fmt(r["mrr@10"], "frac"), ""),
    ]
    lat = m["latency_ms"]
    rows.append(("latency p50/p95 ms", f"{_fmt(lat['p50'], 'ms')} / {_fmt(lat['p95'], 'ms')}",
                 f"{sysinfo['machine'].get('cpu') or '?'}, {sysinfo['machine'].get('cores')} cores"))
    if m.get("errors"):
        rows.append(("errors", str(m["errors"]), "questions the system refused or failed"))
    out.append(_table(("metric", "value", ""), rows, left=(0, 2)))
    for group in ("by_type", "by_script"):
        table = result.get(group) or {}
        if not table:
            continue
        out.append("")
        if result["retrieval_only"]:
            out.append(_table((group[3:], "n", "R@1", "R@5"),
                              [(k, v["n"], _fmt(v["retrieval"]["recall@1"], "frac"),
                                _fmt(v["retrieval"]["recall@5"], "frac")) for k, v in table.items()]))
        else:
            out.append(_table((group[3:], "n", "EM", "F1", "cite", "R@1", "R@5"),
                              [(k, v["n"], _fmt(v["em"]), _fmt(v["f1"]), _fmt(v["citation_accuracy"]),
                                _fmt(v["retrieval"]["recall@1"], "frac"), _fmt(v["retrieval"]["recall@5"], "frac"))
                               for k, v in table.items()]))
    alone = result.get("standalone")
    if alone:  # a conversation's follow-ups beside the same questions written out in full, asked alone
        follow = result.get("by_type") or {}
        rows = [(k, v["n"], _fmt(follow.get(k, {}).get("f1")), _fmt(v["f1"])) for k, v in alone["by_type"].items()]
        rows.append(("all", alone["n"], "", _fmt(alone["f1"])))
        out += ["", _table(("kind", "n", "follow-up F1", "written in full F1"), rows)]
    if result.get("misses_by_reason"):
        out += ["", "misses: " + ", ".join(f"{k} {v}" for k, v in result["misses_by_reason"].items())]
    if sysinfo["mode"] == "url" and not result["retrieval_only"]:
        out += ["", URL_SWEEP_NOTE]
    out += [f"warning: {w}" for w in result.get("warnings", [])]
    return "\n".join(out)


def format_comparison(diff: dict) -> str:
    out = []
    for w in diff["warnings"]:
        out.append(f"warning: {w}")
    rows = []
    for row in diff["metrics"]:
        frac = row["metric"].startswith("retrieval.")
        if row["metric"].endswith("threshold"):
            kind, delta = "g", "-" if row["delta"] is None else f"{row['delta']:+.3g}"
        else:
            kind = "frac" if frac else "ms" if row["metric"].startswith("latency") else "pct"
            delta = "-" if row["delta"] is None else (f"{row['delta']:+.3f}" if frac else f"{row['delta']:+.1f}")
        rows.append((row["metric"], _fmt(row["old"], kind), _fmt(row["new"], kind), delta, row["verdict"]))
    out.append(_table(("metric", "old", "new", "change", ""), rows, left=(0, 4)))
    if diff["questions"]:
        out += ["", f"{len(diff['questions'])} of {diff['shared']} questions changed answer:"]
        order = {"broken": 0, "worse": 1, "fixed": 2, "better": 3, "changed": 4}
        for q in sorted(diff["questions"], key=lambda q: order[q["kind"]]):
            out.append(f"  {q['kind']:>7}  {q['id']}  {q['question'][:40]}")
            out.append(f"           {q['old'] or '(no answer)'} (F1 {q['old_f1']:.2f}) -> "
                       f"{q['new'] or '(no answer)'} (F1 {q['new_f1']:.2f}); gold {' | '.join(q['gold']) or '(none)'}")
    if diff["ranks"]:
        moved = diff["ranks"]
        up = sum(1 for q in moved if (q["new_rank"] or 99) < (q["old_rank"] or 99))
        out += ["", f"gold passage rank changed for {len(moved)} questions ({up} up, {len(moved) - up} down)"]
    out += ["", f"verdict: {diff['verdict']}"]
    return "\n".join(out)
