"""The `qa eval --report` page: one self-contained HTML file (plots embedded as SVG) that shows
how often the service is right and, question by question, why it was wrong."""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

from qa.eval.backends import URL_SWEEP_NOTE
from qa.eval.plots import plot_breakdowns, plot_coverage, plot_latency, plot_recall, plot_threshold

log = logging.getLogger(__name__)


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _pct(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def _frac(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def _cards(result: dict) -> str:
    m = result["metrics"]
    r, lat = m["retrieval"], m["latency_ms"]
    cards = []
    if not result["retrieval_only"]:
        best = m["best_threshold"]
        cards += [
            ("EM", _pct(m["em"]), f"HasAns {_pct(m['has_ans']['em'])} · NoAns {_pct(m['no_ans']['em'])}"),
            ("F1", _pct(m["f1"]), f"HasAns {_pct(m['has_ans']['f1'])} · NoAns {_pct(m['no_ans']['f1'])}"),
            ("no-answer accuracy", _pct(m["no_answer_accuracy"]),
             f"answered {_pct(m['answered'])}% · withheld {_pct(m.get('answerable_withheld'))}% of answerable"),
            ("citation accuracy", _pct(m["citation_accuracy"]), "top answer cites the gold passage"),
            *[(name, _pct(m[key]["percent"]), f"shown answers in the gold {what} · n={m[key]['n']} · "
                                              f"{_pct(m[key]['of_all'])}% of all")
              for key, name, what in (("document_at_1", "document@1", "document"), ("page_at_1", "page@1", "page"))
              if m.get(key)],
            ("best threshold", f"{best['threshold']:.3g}", f"F1 {_pct(best['f1'])} · EM {_pct(best['em'])}"),
        ]
    cards += [
        ("Recall@1 / @5", f"{_frac(r['recall@1'])} / {_frac(r['recall@5'])}",
         f"@3 {_frac(r['recall@3'])} · @10 {_frac(r['recall@10'])} · n={r['n']}"),
        ("MRR@10", _frac(r["mrr@10"]), ""),
        ("latency p50 / p95", f"{lat['p50']:.0f} / {lat['p95']:.0f} ms" if lat["p50"] is not None else "–",
         f"mean {lat['mean']:.0f} ms" if lat["mean"] is not None else ""),
    ]
    return "".join(f'<div class="card"><div class="k">{_e(k)}</div><div class="v">{_e(v)}</div>'
                   f'<div class="s">{_e(s)}</div></div>' for k, v, s in cards)


def _breakdown_table(result: dict, group: str) -> str:
    table = result.get(group) or {}
    if not table:
        return ""
    answer = not result["retrieval_only"]
    head = "<th>n</th>" + ("<th>EM</th><th>F1</th><th>citation</th>" if answer else "") + "<th>R@1</th><th>R@5</th>"
    rows = []
    for name, v in table.items():
        cells = f"<td>{v['n']}</td>"
        if answer:
            cells += f"<td>{_pct(v['em'])}</td><td>{_pct(v['f1'])}</td><td>{_pct(v['citation_accuracy'])}</td>"
        cells += f"<td>{_frac(v['retrieval']['recall@1'])}</td><td>{_frac(v['retrieval']['recall@5'])}</td>"
        rows.append(f"<tr><th>{_e(name)}</th>{cells}</tr>")
    return f'<table class="num"><tr><th>{_e(group[3:])}</th>{head}</tr>{"".join(rows)}</table>'


def _misses(result: dict) -> tuple[str, int]:
    """Every missed question: what was asked, expected and answered, which passage, and why."""
    questions = result["questions"]
    typed = any(q.get("type") or q.get("script") for q in questions)  # SQuAD files have neither

    def kind(q: dict) -> str:
        return f"<td>{_e(q.get('type'))}<br><small>{_e(q.get('script'))}</small></td>" if typed else ""

    kind_head = "<th>type</th>" if typed else ""
    if result["retrieval_only"]:
        missed = [q for q in questions if q["answerable"] and q.get("gold") is not None and q.get("gold_rank") != 1]
        missed.sort(key=lambda q: (q["gold_rank"] is not None, -(q["gold_rank"] or 0)))
        rows = [
            f"<tr><td>{_e(q['id'])}</td>{kind(q)}"
            f"<td class='q'>{_e(q['question'])}</td><td>{_e(q['gold_label'])}</td>"
            f"<td>{_e(q['gold_rank'] or 'not in top 10')}</td><td>{_e(' · '.join(q['retrieved'][:3]))}</td></tr>"
            for q in missed
        ]
        head = f"<tr><th>id</th>{kind_head}<th>question</th><th>gold</th><th>gold rank</th><th>top 3</th></tr>"
        return f'<table class="miss">{head}{"".join(rows)}</table>', len(missed)
    missed = [q for q in questions if q.get("miss")]
    order = {"retrieval": 0, "wrong passage": 1, "abstained": 2, "false answer": 3, "wrong span": 4,
             "span boundary": 5, "error": 6}
    missed.sort(key=lambda q: (order.get(q["reason"], 9), q["f1"], q["id"]))
    rows = []
    for q in missed:
        gold = " | ".join(dict.fromkeys(q["answers"])) or "(not answered by the document)"
        if q["top_answer"] and not q["prediction"]:
            pred_html = f"(no answer)<br><small>withheld: {_e(q['top_answer'])}</small>"
        else:
            pred_html = _e(q["prediction"] or "(no answer)")
        score = "–" if q["score"] is None else f"{q['score']:.3g}"
        cited_ok = q.get("citation_correct")
        mark = "" if cited_ok is None else ("<span class='ok'>✓</span> " if cited_ok else "<span class='bad'>✗</span> ")
        cited = _e(q["cited"]) if q.get("cited") and q["prediction"] else "–"
        rank = q["gold_rank"] if q["gold_rank"] is not None else ("–" if q.get("gold") is None else ">10")
        rows.append(
            f"<tr><td>{_e(q['id'])}</td>{kind(q)}"
            f"<td class='q'>{_e(q['question'])}</td><td>{_e(gold)}</td><td>{pred_html}</td>"
            f"<td class='n'>{score}</td><td class='n'>{q['f1']:.2f}</td>"
            f"<td>{mark}{cited}<br><small>gold {_e(q['gold_label'] or '–')}</small></td><td class='n'>{rank}</td>"
            f"<td><b>{_e(q['reason'])}</b><br><small>{_e(q['why'])}</small></td></tr>"
        )
    head = (f"<tr><th>id</th>{kind_head}<th>question</th><th>gold answer</th><th>prediction</th><th>score</th>"
            "<th>F1</th><th>cited vs gold</th><th>gold rank</th><th>why</th></tr>")
    return f'<table class="miss">{head}{"".join(rows)}</table>', len(missed)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK TC","Noto Sans TC","PingFang TC",
"Microsoft JhengHei",sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:13px;line-height:1.5}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}
.card .k{font-size:12px;color:#666}.card .v{font-size:22px;font-weight:600}.card .s{font-size:11px;color:#888}
.plots img{max-width:100%;display:block;margin:8px 0}
.row{display:flex;flex-wrap:wrap;gap:16px}.row img{max-width:560px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}
table.num td{text-align:right}tr:nth-child(even) td{background:#fafafa}
table.miss td.q{max-width:300px}td.n{text-align:right;white-space:nowrap}
small{color:#777}.ok{color:#2e9a4a;font-weight:bold}.bad{color:#c0392b;font-weight:bold}
"""


def render_report(result: dict) -> str:
    """The whole page as a string: no external files, scripts or fonts needed to view it."""
    ds, sysinfo, m = result["dataset"], result["system"], result["metrics"]
    machine = sysinfo.get("machine") or {}
    plots = {name: fn(result) for name, fn in (("breakdowns", plot_breakdowns), ("recall", plot_recall),
                                                 ("latency", plot_latency), ("threshold", plot_threshold),
                                                 ("coverage", plot_coverage))}
    misses, n_missed = _misses(result)
    where = sysinfo.get("url") or f"in-process, index {sysinfo.get('index_dir')}"
    reasons = result.get("misses_by_reason") or {}
    what = "Retrieval" if result["retrieval_only"] else "Answer"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>qa eval · {_e(ds.get('name', 'dataset'))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{what} accuracy on {_e(ds.get('name', 'the data set'))}</h1>",
        "<div class='meta'>",
        f"{ds['questions']} questions ({ds['answerable']} answerable, {ds['unanswerable']} unanswerable)"
        + (f" · first {ds['limit']} only" if ds.get("limit") else "")
        + f" · {_e(ds.get('format', ''))} · sha256 {_e((ds.get('sha256') or '')[:12])}<br>",
        f"system: {_e(where)} · corpus {_e(sysinfo.get('corpus'))} ({_e(sysinfo.get('passages'))} passages) · "
        f"embedding model {_e(sysinfo.get('embedding_model'))} · reader reads top {_e(sysinfo.get('read_k'))} · "
        f"no-answer threshold {_e(sysinfo.get('no_answer_threshold'))}<br>",
        f"measured {_e(result.get('created'))} on {_e(machine.get('cpu') or 'unknown CPU')}, "
        f"{_e(machine.get('cores'))} cores, {_e(machine.get('threads') or '?')} thread(s) · "
        "EM/F1 per CMRC 2018 (character tokens, longest common run), percent; recall as a fraction",
        "</div>",
        "<div class='cards'>" + _cards(result) + "</div>",
    ]
    for warning in result.get("warnings", []):
        parts.append(f"<p class='bad'>Warning: {_e(warning)}.</p>")
    if m.get("errors"):
        parts.append(f"<p class='bad'>{m['errors']} questions failed or were refused; see the table below.</p>")
    parts.append("<div class='plots'>")
    if plots["breakdowns"]:
        parts += ["<h2>F1 by question type and script</h2>", plots["breakdowns"],
                  "<div class='row'>", _breakdown_table(result, "by_type"), _breakdown_table(result, "by_script"),
                  "</div>"]
    parts.append("<h2>Retrieval and latency</h2><div class='row'>")
    parts += [p for p in (plots["recall"], plots["latency"]) if p]
    parts.append("</div>")
    if result["retrieval_only"]:
        parts += [_breakdown_table(result, "by_type"), _breakdown_table(result, "by_script")]
    if plots["threshold"]:
        best = m["best_threshold"]
        parts += ["<h2>No-answer threshold</h2>", plots["threshold"],
                  f"<p class='meta'>At the configured threshold F1 is {_pct(m['f1'])}; a threshold of "
                  f"{best['threshold']:.3g} would give F1 {_pct(best['f1'])} (answerable {_pct(best['has_ans_f1'])}, "
                  f"unanswerable {_pct(best['no_ans_f1'])}). Chosen on this set, so optimistic for it."
                  + (f" ({_e(URL_SWEEP_NOTE[6:])})" if sysinfo.get("mode") == "url" else "") + "</p>"]
    if plots["coverage"]:
        parts += [plots["coverage"]]
    parts.append("</div>")
    title = "Retrieval misses (gold passage not ranked first)" if result["retrieval_only"] else "Every miss"
    parts.append(f"<h2>{title}: {n_missed} of {ds['questions']}</h2>")
    if reasons:
        parts.append("<p class='meta'>" + " · ".join(f"{_e(k)}: {v}" for k, v in reasons.items()) + "</p>")
    parts += [misses, "</body></html>"]
    return "\n".join(parts)


def write_report(result: dict, path: Path) -> Path:
    """Write to a temporary name and rename into place, like every file this project writes."""
    path = Path(path)
    page = render_report(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    log.debug("report written to %s (%d KB)", path, len(page) // 1024)
    return path
