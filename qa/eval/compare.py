"""`qa eval --compare OLD NEW`: what changed between two saved results (metric deltas, questions
fixed or broken, gold-passage ranks) and whether the change is more than noise (paired bootstrap).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# metric path -> True when higher is better
_COMPARED = [
    ("em", True), ("f1", True), ("has_ans.f1", True), ("no_ans.f1", True), ("no_answer_accuracy", True),
    ("citation_accuracy", True), ("best_threshold.threshold", None), ("best_threshold.f1", True),
    ("retrieval.recall@1", True), ("retrieval.recall@3", True), ("retrieval.recall@5", True),
    ("retrieval.recall@10", True), ("retrieval.mrr@10", True),
    ("latency_ms.p50", False), ("latency_ms.p95", False), ("errors", False),
]


def _get(d: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def paired_bootstrap(old: Sequence[float], new: Sequence[float], rounds: int = 2000, seed: int = 0
                     ) -> tuple[float, float, float]:
    """Mean difference new - old and its 95% interval, resampling questions (fixed seed: reproducible)."""
    diff = np.asarray(new, dtype=float) - np.asarray(old, dtype=float)
    if not len(diff):
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(rounds, len(diff)))].mean(axis=1)
    return float(diff.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def compare(old: dict, new: dict) -> dict:
    """What changed between two results: metric deltas, questions fixed or broken, and a verdict."""
    rows = []
    for path, higher_better in _COMPARED:
        a, b = _get(old.get("metrics", {}), path), _get(new.get("metrics", {}), path)
        if a is None and b is None:
            continue
        delta = b - a if a is not None and b is not None else None
        if delta is None or higher_better is None or abs(delta) < 1e-9:
            verdict = ""
        else:
            verdict = "better" if (delta > 0) == higher_better else "worse"
        rows.append({"metric": path, "old": a, "new": b, "delta": delta, "verdict": verdict})
    for group in ("by_type", "by_script"):
        for name in sorted(set(old.get(group, {})) | set(new.get(group, {}))):
            a, b = _get(old.get(group, {}), f"{name}.f1"), _get(new.get(group, {}), f"{name}.f1")
            if a is None or b is None:
                continue
            delta = b - a
            verdict = "" if abs(delta) < 1e-9 else ("better" if delta > 0 else "worse")
            rows.append({"metric": f"{group[3:]} {name} f1", "old": a, "new": b, "delta": delta, "verdict": verdict})
    old_q = {q["id"]: q for q in old.get("questions", [])}
    new_q = {q["id"]: q for q in new.get("questions", [])}
    shared = [i for i in new_q if i in old_q]
    changes = []
    both_answered = all("f1" in old_q[i] and "f1" in new_q[i] for i in shared)
    if both_answered:
        for i in shared:
            a, b = old_q[i], new_q[i]
            if abs(a["f1"] - b["f1"]) > 1e-9 or a.get("prediction") != b.get("prediction"):
                kind = ("fixed" if b["em"] > a["em"] else "broken" if b["em"] < a["em"]
                        else "better" if b["f1"] > a["f1"] else "worse" if b["f1"] < a["f1"] else "changed")
                changes.append({"id": i, "question": b["question"], "kind": kind, "old": a.get("prediction", ""),
                                "new": b.get("prediction", ""), "old_f1": a["f1"], "new_f1": b["f1"],
                                "gold": b.get("answers", [])})
    rank_changes = []
    for i in shared:
        a, b = old_q[i].get("gold_rank"), new_q[i].get("gold_rank")
        if a != b and old_q[i].get("answerable"):
            rank_changes.append({"id": i, "question": new_q[i]["question"], "old_rank": a, "new_rank": b})
    if both_answered and shared:
        f1 = paired_bootstrap([old_q[i]["f1"] * 100 for i in shared], [new_q[i]["f1"] * 100 for i in shared])
        measure = "F1"
    else:
        f1 = paired_bootstrap([_rr(old_q[i]) for i in shared], [_rr(new_q[i]) for i in shared])
        measure = "reciprocal rank"
    mean, lo, hi = f1
    if not shared:
        verdict = "no shared questions: nothing to compare"
    elif lo > 0:
        verdict = f"improvement: {measure} {mean:+.3g} (95% CI {lo:+.3g} to {hi:+.3g}) over {len(shared)} questions"
    elif hi < 0:
        verdict = f"regression: {measure} {mean:+.3g} (95% CI {lo:+.3g} to {hi:+.3g}) over {len(shared)} questions"
    else:
        verdict = (f"no clear change: {measure} {mean:+.3g} (95% CI {lo:+.3g} to {hi:+.3g}) over "
                   f"{len(shared)} questions")
    warnings = []
    od, nd = old.get("dataset", {}), new.get("dataset", {})
    if od.get("sha256") and nd.get("sha256") and od["sha256"] != nd["sha256"]:
        warnings.append(f"different data sets ({od.get('name')} vs {nd.get('name')}); per-question changes use "
                        f"the {len(shared)} shared ids")
    os_, ns = old.get("system", {}), new.get("system", {})
    if os_.get("no_answer_threshold") != ns.get("no_answer_threshold"):
        warnings.append(f"no-answer threshold {os_.get('no_answer_threshold')} -> {ns.get('no_answer_threshold')}")
    if (os_.get("machine") or {}).get("cpu") != (ns.get("machine") or {}).get("cpu"):
        warnings.append("measured on different machines: latency is not comparable")
    return {"metrics": rows, "questions": changes, "ranks": rank_changes, "shared": len(shared),
            "verdict": verdict, "warnings": warnings}


def _rr(q: dict) -> float:
    r = q.get("gold_rank")
    return 1.0 / r if r else 0.0
